package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/node/nodetest"
	"github.com/hubnet-eu/hubnet/protocol"
)

// langHub starts a hub that an advisor's node knows: robo-hub in Keski-Suomi, strong
// in robotics and food manufacturing, with room in test before invest. It returns
// the advisor's node URL.
func langHub(t *testing.T) string {
	t.Helper()
	net := nodetest.Network(t)
	advisor := nodetest.Profile("advisor")
	a := nodetest.Start(t, net, advisor.ID, &advisor)
	robo := nodetest.Profile("robo-hub")
	robo.Country, robo.Regions, robo.Languages = "FI", []string{"FI193"}, []string{"fi", "en"}
	robo.Technologies = map[string]int{"robotics": 4}
	robo.Sectors = map[string]int{"10": 5}
	robo.Capacity = map[protocol.Family]protocol.Capacity{
		protocol.FamilyTestBeforeInvest: {Available: 3, Maximum: 5, Unit: "SMEs per month"},
	}
	nodetest.Start(t, net, robo.ID, &robo, a.GossipAddr())
	nodetest.Eventually(t, 10*time.Second, func() error {
		_, err := a.Hub("robo-hub")
		return err
	})
	return "http://" + a.HTTPAddr()
}

// TestCLI_languages checks that the command line writes its results, explanations
// and vocabulary in the language of --lang or of the locale, and English without.
func TestCLI_languages(t *testing.T) {
	node := langHub(t)
	search := []string{"--node", node, "search", "--tech", "robotics,cybersecurity", "--family", "test-before-invest",
		"--sector", "10", "--region", "FI193"}
	for _, tc := range []struct {
		name      string
		env, args []string
		want      []string
	}{
		{"English without a locale", nil, search, []string{
			"1 hub matches, best first:",
			"  #  HUB       NAME          COUNTRY  TYPE  SCORE  FREE\n",
			"Robotics level 4 (wanted); lacks Cybersecurity; offers test before invest, 3 of 5 free (SMEs per month); " +
				"sector 10 Manufacture of food products level 5; region FI193, same NUTS 3 region",
		}},
		{"German by --lang", []string{"LANG=fr_FR.UTF-8"}, append([]string{"--lang", "de"}, search...), []string{
			"1 Hub passt, der beste zuerst:",
			"  #  HUB       NAME          LAND     TYP   PUNKTE  FREI\n", "EDIH    73,9  3\n",
			"Robotik Stufe 4 (gesucht); fehlt: Cybersicherheit; bietet Testen vor Investieren, 3 von 5 frei (KMU pro Monat); " +
				"Sektor 10 Herstellung von Nahrungs- und Futtermitteln Stufe 5; Region FI193, gleiche NUTS-3-Region",
		}},
		{"Finnish by the locale", []string{"LANG=fi_FI.UTF-8"}, search, []string{
			"1 hub sopii, paras ensin:",
			"Robotiikka taso 4 (haettu); puuttuu: Kyberturvallisuus",
			"toimiala 10 Elintarvikkeiden valmistus taso 5",
		}},
		{"hub in French by LC_MESSAGES", []string{"LC_MESSAGES=fr_BE.UTF-8", "LANG=de_DE.UTF-8"}, []string{"--node", node, "hubs", "robo-hub"}, []string{
			"  pays:       FI (Finlande)\n",
			"  langues:    fi (finnois), en (anglais)\n",
			"technologies (niveau 1-5) :\n  4  Robotique\n",
			"secteurs (niveau 1-5) :\n  5  10 Industries alimentaires\n",
			"capacité (disponible sur maximum) :\n  tester avant d'investir          3 sur 5 PME par mois",
		}},
		{"sectors in Polish", nil, []string{"--lang", "pl", "vocab", "sectors"}, []string{"WARTOŚĆ", "  Produkcja mebli\n"}},
		{"English by LC_ALL=C over LANG", []string{"LC_ALL=C", "LANG=de_DE.UTF-8"}, []string{"vocab", "countries"}, []string{"DE     Germany"}},
		{"countries in Spanish", []string{"HUBNET_LANG=es"}, []string{"vocab", "countries"}, []string{"VALOR", "DE     Alemania"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := hubnet(t, tc.env, tc.args...)
			if r.code != 0 {
				t.Fatalf("hubnet %s: %v", strings.Join(tc.args, " "), r)
			}
			for _, want := range tc.want {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
}

// TestCLI_languageErrors checks that errors, their hints and the commands' short
// help come in the chosen language, and that an unknown --lang is a usage error.
func TestCLI_languageErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env, args []string
		code      int
		stdout    []string
		stderr    []string
	}{
		{"unreachable node in German", nil, []string{"--lang", "de", "--node", "http://127.0.0.1:1", "hubs"}, exitUnreachable, nil,
			[]string{"hubnet: Hubs auflisten: Knoten unter http://127.0.0.1:1 ist nicht erreichbar: ", "(läuft `hubnet run`? Geben Sie --node oder -d an)\n"}},
		{"unreachable node in Italian", []string{"LANG=it_IT.UTF-8"}, []string{"--node", "http://127.0.0.1:1", "hubs"}, exitUnreachable, nil,
			[]string{"hubnet: elencare gli hub: il nodo a http://127.0.0.1:1 non è raggiungibile: ", "(`hubnet run` è in funzione? indicare --node o -d)\n"}},
		{"usage error in Spanish", nil, []string{"--lang", "es", "vocab"}, exitUsage, nil,
			[]string{"hubnet: indique una lista: technologies, services,", "(vea 'hubnet vocab --help')\n"}},
		{"short help in French", nil, []string{"--lang", "fr", "--help"}, exitOK,
			[]string{"Lister les hubs de l'annuaire de ce nœud, ou en afficher un", "Orienter une PME vers un autre hub, avec son consentement"}, nil},
		{"unknown language", nil, []string{"--lang", "sv", "vocab", "technologies"}, exitUsage, nil,
			[]string{"hubnet: --lang is the language of hubnet's messages, one of en, de, fr, it, es, fi, pl; got \"sv\""}},
		{"SME's languages given to --lang", nil, []string{"search", "--lang", "fi,en"}, exitUsage, nil,
			[]string{"(a search names the SME's languages with --languages)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := hubnet(t, tc.env, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d: %v", r.code, tc.code, r)
			}
			for _, want := range tc.stdout {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			for _, want := range tc.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
		})
	}
}

// TestCLI_helpLanguages checks that --help is written in the chosen language: the
// long help, the flags' help, cobra's own words and pflag's defaults, while command
// names, flags and examples stay as they are typed; and that English is unchanged.
func TestCLI_helpLanguages(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env, args []string
		want      []string
		not       []string
	}{
		{"demo in German", nil, []string{"--lang", "de", "demo", "--help"}, []string{
			"N Hubs betreiben (Standard 6, höchstens 12), alle auf 127.0.0.1,",
			"\nAufruf:\n  hubnet demo [flags]\n",
			"\nBeispiele:\n  hubnet demo\n  hubnet demo --hubs 12 --keep ./demo --base-port 7480\n",
			"\nOptionen:\n",
			"      --base-port int         HTTP-Port des ersten Hubs, die anderen folgen (Standard: freie Ports)\n",
			"      --from-catalogue FILE   Hubs betreiben, die aus dem XLSX-Export FILE des EDIH-Katalogs importiert sind",
			"'all' (Standard: \"6\")\n",
			"  -h, --help                  Hilfe zu demo\n",
			"\nGlobale Optionen:\n",
			"      --log-format string   Log-Format: text oder json (Standard: \"text\")\n",
		}, []string{"Usage:", "Flags:", "Global Flags:", "Examples:", "(default", "help for"}},
		{"network in Finnish by the locale", []string{"LANG=fi_FI.UTF-8"}, []string{"network", "--help"}, []string{
			"Käyttö:\n  hubnet network [flags]\n  hubnet network [command]\n",
			"\nKäytettävissä olevat komennot:\n  admit ",
			"\nYleiset valitsimet:\n",
			"\nKomento \"hubnet network [command] --help\" kertoo lisää komennosta.\n",
		}, []string{"Available Commands:", "for more information about a command"}},
		{"decline in Polish", nil, []string{"--lang", "pl", "referrals", "decline", "--help"}, []string{
			"Odrzuć skierowanie ID z jednym z powodów poniżej.",
			"\n\nPowody: out-of-scope, no-capacity, not-eligible, needs-more-info, duplicate, redirected.\n\n",
			"Potrzebny jest token operatora huba; --note trafia do historii skierowania w obu hubach.",
			"  hubnet -d ./hub referrals decline 019a2b3c-4d5e-7f60-8a9b-0c1d2e3f4a5b --reason no-capacity",
			"      --reason string   powód: out-of-scope, no-capacity, not-eligible, needs-more-info, duplicate, redirected\n",
		}, nil},
		{"the root in Spanish", nil, []string{"--lang", "es", "--help"}, []string{
			"hubnet es un directorio federado de los European Digital Innovation Hubs.",
			"  hubnet init -d ./hub --network network.json --id my-hub --profile profile.yaml\n",
			"Códigos de salida:\n  0  ok\n",
			"\nComandos disponibles:\n",
			"  help        Ayuda sobre cualquier comando\n",
			"  completion  Generar el script de autocompletado para el shell indicado\n",
		}, nil},
		{"English unchanged", []string{"LANG=C"}, []string{"demo", "--help"}, []string{
			"Run N hubs (default 6, at most 12), all on 127.0.0.1,",
			"\nUsage:\n  hubnet demo [flags]\n",
			"\nExamples:\n  hubnet demo\n",
			"\nFlags:\n",
			"      --base-port int         HTTP port of the first hub, the others following (default: free ports)\n",
			"'all' (default \"6\")\n",
			"  -h, --help                  help for demo\n",
			"\nGlobal Flags:\n",
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := hubnet(t, tc.env, tc.args...)
			if r.code != 0 {
				t.Fatalf("hubnet %s: %v", strings.Join(tc.args, " "), r)
			}
			for _, want := range tc.want {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("help lacks %q:\n%s", want, r.stdout)
				}
			}
			for _, not := range tc.not {
				if strings.Contains(r.stdout, not) {
					t.Errorf("help has the English %q:\n%s", not, r.stdout)
				}
			}
		})
	}
}

// TestCLI_messagesLanguages checks the summary of an invalid profile, the catalogue
// import's summary and report, and version, in the language of --lang.
func TestCLI_messagesLanguages(t *testing.T) {
	dir := t.TempDir()
	network := filepath.Join(dir, "network.json")
	mustHubnet(t, "network", "create", "lang-net", "-o", network)
	bad := writeFile(t, dir, "bad.yaml", strings.NewReplacer("country: FI", "country: XX", "robotics: 4", "robotics: 9").
		Replace(testProfile("hub-a", "FI", "FI1C")))
	r := hubnet(t, nil, "--lang", "de", "init", "-d", filepath.Join(dir, "hub"), "--network", network, "--id", "hub-a", "--profile", bad)
	if r.code != exitInvalid || !strings.Contains(r.stderr, "ungültiges Profil, 3 Probleme") {
		t.Errorf("init with a bad profile in German: %v\nwant exit %d and \"ungültiges Profil, 3 Probleme\"", r, exitInvalid)
	}
	r = hubnet(t, nil, "--lang", "fr", "init", "-d", filepath.Join(dir, "hub"), "--network", network, "--id", "hub-a", "--profile", bad)
	if !strings.Contains(r.stderr, "profil invalide, 3 problèmes") {
		t.Errorf("init with a bad profile in French: %v", r)
	}

	file := writeTestCatalogue(t, dir)
	r = mustHubnet(t, "--lang", "it", "import", "edih-xlsx", file, "--out", filepath.Join(dir, "profiles"))
	for _, want := range []string{
		"lette 10 righe da catalogue.xlsx (EDIH 3, SoE 1, DIH 5, tipo sconosciuto 1)\n",
		"\nimportati ", "\n  con note ", "\nnon importati ",
		"profili scritti in " + filepath.Join(dir, "profiles") + ", un ID.yaml per hub\n",
		"regioni dall'indirizzo: 4 su 7 hub importati (57%); per paese, con regione su importati:\n  BE   1 su 1    DE   1 su 1 ",
		"rapporto: sopra, sullo standard error\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("import summary in Italian lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "riga ") {
		t.Errorf("import report in Italian: %q, want lines starting \"riga \"", r.stderr)
	}
	r = hubnet(t, nil, "--lang", "es", "import", "edih-xlsx", file, "--name", "Atlantis Hub", "--out", filepath.Join(dir, "none"))
	if r.code != exitInvalid || !strings.Contains(r.stderr, "fila de catálogo 7 no válida, 1 problema") {
		t.Errorf("import of a row not imported, in Spanish: %v", r)
	}

	r = mustHubnet(t, "--lang", "pl", "version")
	if !strings.HasPrefix(r.stdout, "hubnet ") || !strings.Contains(r.stdout, " (protokół v") {
		t.Errorf("version in Polish: %q", r.stdout)
	}
	if r := mustHubnet(t, "--lang", "pl", "version", "--json"); strings.Contains(r.stdout, "protokół") {
		t.Errorf("version --json translated: %q", r.stdout)
	}
}
