package node

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"

	"github.com/hubnet-eu/hubnet/api"
)

// The texts of e-mails, in the console's languages: English, German, French,
// Italian, Spanish, Finnish and Polish. A recipient whose language is another gets
// English. Each language is one table: a subject per event type (%[1]s is the
// partner hub, %[2]s the referral's state), the sentences around it, and the texts
// of the e-mail that carries a one-time sign-in link. TestMailTexts_complete fails
// when a language misses one.

// mailTexts holds one language's texts.
type mailTexts struct {
	Subjects map[string]string // by event type
	Partner  string            // label: the other hub
	State    string            // label: the referral's state
	Family   string            // label: the service family wanted
	Due      string            // label: the due date
	By       string            // label: who made the change
	Open     string            // the link's text
	Footer   string            // why the e-mail came

	LinkSubject string // the sign-in link's e-mail: %[1]s is the hub
	LinkBody    string // what the link does: %[1]s is the hub, %[2]s when it expires
	LinkOpen    string // the link's text
	LinkCode    string // label: the code, for the console's page of sign-in codes
	LinkIgnore  string // for a person who did not ask for it
}

var mailLanguages = map[string]mailTexts{
	"en": {
		Subjects: map[string]string{
			"referral.sent":     "Referral sent to %[1]s",
			"referral.received": "New referral from %[1]s",
			"referral.accepted": "Referral with %[1]s accepted",
			"referral.rejected": "Referral with %[1]s declined",
			"referral.on-hold":  "Referral with %[1]s waits for an answer",
			"referral.expired":  "Referral with %[1]s expired",
			"referral.changed":  "Referral with %[1]s is now %[2]s",
			"referral.due-soon": "Referral from %[1]s: decision due within 24 hours",
		},
		Partner: "Partner hub", State: "State", Family: "Service wanted", Due: "Due", By: "Changed by",
		Open:        "Open the referral",
		Footer:      "You receive this e-mail from hubnet because of your notification settings at your hub.",
		LinkSubject: "Your sign-in link to %[1]s",
		LinkBody:    "Open the link below to choose your password and sign in to the console of %[1]s. It works once, until %[2]s.",
		LinkOpen:    "Choose your password", LinkCode: "Sign-in code",
		LinkIgnore: "If you did not ask for this link, ignore this e-mail: nothing changes, and your password still works.",
	},
	"de": {
		Subjects: map[string]string{
			"referral.sent":     "Vermittlung an %[1]s gesendet",
			"referral.received": "Neue Vermittlung von %[1]s",
			"referral.accepted": "Vermittlung mit %[1]s angenommen",
			"referral.rejected": "Vermittlung mit %[1]s abgelehnt",
			"referral.on-hold":  "Vermittlung mit %[1]s wartet auf eine Antwort",
			"referral.expired":  "Vermittlung mit %[1]s abgelaufen",
			"referral.changed":  "Vermittlung mit %[1]s ist jetzt %[2]s",
			"referral.due-soon": "Vermittlung von %[1]s: Entscheidung binnen 24 Stunden fällig",
		},
		Partner: "Partner-Hub", State: "Status", Family: "Gewünschte Leistung", Due: "Fällig", By: "Geändert von",
		Open:        "Vermittlung öffnen",
		Footer:      "Sie erhalten diese E-Mail von hubnet wegen Ihrer Benachrichtigungseinstellungen bei Ihrem Hub.",
		LinkSubject: "Ihr Anmeldelink für %[1]s",
		LinkBody:    "Öffnen Sie den Link unten, um Ihr Passwort zu wählen und sich an der Konsole von %[1]s anzumelden. Er funktioniert einmal, bis %[2]s.",
		LinkOpen:    "Passwort wählen", LinkCode: "Anmeldecode",
		LinkIgnore: "Wenn Sie diesen Link nicht angefordert haben, ignorieren Sie diese E-Mail: Es ändert sich nichts, und Ihr Passwort gilt weiter.",
	},
	"fr": {
		Subjects: map[string]string{
			"referral.sent":     "Orientation envoyée à %[1]s",
			"referral.received": "Nouvelle orientation de %[1]s",
			"referral.accepted": "Orientation avec %[1]s acceptée",
			"referral.rejected": "Orientation avec %[1]s refusée",
			"referral.on-hold":  "L’orientation avec %[1]s attend une réponse",
			"referral.expired":  "L’orientation avec %[1]s a expiré",
			"referral.changed":  "L’orientation avec %[1]s est maintenant %[2]s",
			"referral.due-soon": "Orientation de %[1]s : décision attendue sous 24 heures",
		},
		Partner: "Hub partenaire", State: "État", Family: "Service demandé", Due: "Échéance", By: "Modifiée par",
		Open:        "Ouvrir l’orientation",
		Footer:      "Vous recevez cet e-mail de hubnet en raison de vos réglages de notification auprès de votre hub.",
		LinkSubject: "Votre lien de connexion à %[1]s",
		LinkBody:    "Ouvrez le lien ci-dessous pour choisir votre mot de passe et vous connecter à la console de %[1]s. Il fonctionne une fois, jusqu’au %[2]s.",
		LinkOpen:    "Choisir votre mot de passe", LinkCode: "Code de connexion",
		LinkIgnore: "Si vous n’avez pas demandé ce lien, ignorez cet e-mail : rien ne change et votre mot de passe reste valable.",
	},
	"it": {
		Subjects: map[string]string{
			"referral.sent":     "Segnalazione inviata a %[1]s",
			"referral.received": "Nuova segnalazione da %[1]s",
			"referral.accepted": "Segnalazione con %[1]s accettata",
			"referral.rejected": "Segnalazione con %[1]s rifiutata",
			"referral.on-hold":  "La segnalazione con %[1]s attende una risposta",
			"referral.expired":  "La segnalazione con %[1]s è scaduta",
			"referral.changed":  "La segnalazione con %[1]s è ora %[2]s",
			"referral.due-soon": "Segnalazione da %[1]s: decisione entro 24 ore",
		},
		Partner: "Polo partner", State: "Stato", Family: "Servizio richiesto", Due: "Scadenza", By: "Modificata da",
		Open:        "Apri la segnalazione",
		Footer:      "Ricevi questa e-mail da hubnet in base alle impostazioni di notifica del tuo polo.",
		LinkSubject: "Il tuo link di accesso a %[1]s",
		LinkBody:    "Apri il link qui sotto per scegliere la tua password e accedere alla console di %[1]s. Funziona una volta sola, fino al %[2]s.",
		LinkOpen:    "Scegli la tua password", LinkCode: "Codice di accesso",
		LinkIgnore: "Se non hai chiesto questo link, ignora questa e-mail: non cambia nulla e la tua password resta valida.",
	},
	"es": {
		Subjects: map[string]string{
			"referral.sent":     "Derivación enviada a %[1]s",
			"referral.received": "Nueva derivación de %[1]s",
			"referral.accepted": "Derivación con %[1]s aceptada",
			"referral.rejected": "Derivación con %[1]s rechazada",
			"referral.on-hold":  "La derivación con %[1]s espera una respuesta",
			"referral.expired":  "La derivación con %[1]s ha caducado",
			"referral.changed":  "La derivación con %[1]s está ahora en estado %[2]s",
			"referral.due-soon": "Derivación de %[1]s: decisión en las próximas 24 horas",
		},
		Partner: "Centro socio", State: "Estado", Family: "Servicio solicitado", Due: "Vence", By: "Modificada por",
		Open:        "Abrir la derivación",
		Footer:      "Recibe este correo de hubnet por los ajustes de notificación de su centro.",
		LinkSubject: "Su enlace de acceso a %[1]s",
		LinkBody:    "Abra el enlace de abajo para elegir su contraseña e iniciar sesión en la consola de %[1]s. Funciona una vez, hasta el %[2]s.",
		LinkOpen:    "Elija su contraseña", LinkCode: "Código de acceso",
		LinkIgnore: "Si no ha pedido este enlace, ignore este correo: nada cambia y su contraseña sigue valiendo.",
	},
	"fi": {
		Subjects: map[string]string{
			"referral.sent":     "Ohjaus lähetetty: %[1]s",
			"referral.received": "Uusi ohjaus: %[1]s",
			"referral.accepted": "Ohjaus hyväksytty: %[1]s",
			"referral.rejected": "Ohjaus hylätty: %[1]s",
			"referral.on-hold":  "Ohjaus odottaa vastausta: %[1]s",
			"referral.expired":  "Ohjaus vanheni: %[1]s",
			"referral.changed":  "Ohjauksen tila on nyt %[2]s: %[1]s",
			"referral.due-soon": "Ohjaus keskittymältä %[1]s: päätös 24 tunnin kuluessa",
		},
		Partner: "Kumppanikeskittymä", State: "Tila", Family: "Haettu palvelu", Due: "Määräaika", By: "Muuttaja",
		Open:        "Avaa ohjaus",
		Footer:      "Saat tämän hubnet-viestin keskittymäsi ilmoitusasetusten vuoksi.",
		LinkSubject: "Kirjautumislinkkisi: %[1]s",
		LinkBody:    "Avaa alla oleva linkki, valitse salasana ja kirjaudu keskittymän %[1]s konsoliin. Linkki toimii kerran, %[2]s asti.",
		LinkOpen:    "Valitse salasana", LinkCode: "Kirjautumiskoodi",
		LinkIgnore: "Jos et pyytänyt tätä linkkiä, jätä viesti huomiotta: mikään ei muutu, ja salasanasi toimii edelleen.",
	},
	"pl": {
		Subjects: map[string]string{
			"referral.sent":     "Skierowanie wysłane do %[1]s",
			"referral.received": "Nowe skierowanie od %[1]s",
			"referral.accepted": "Skierowanie z %[1]s przyjęte",
			"referral.rejected": "Skierowanie z %[1]s odrzucone",
			"referral.on-hold":  "Skierowanie z %[1]s czeka na odpowiedź",
			"referral.expired":  "Skierowanie z %[1]s wygasło",
			"referral.changed":  "Skierowanie z %[1]s ma teraz stan %[2]s",
			"referral.due-soon": "Skierowanie od %[1]s: decyzja w ciągu 24 godzin",
		},
		Partner: "Centrum partnerskie", State: "Stan", Family: "Oczekiwana usługa", Due: "Termin", By: "Zmienione przez",
		Open:        "Otwórz skierowanie",
		Footer:      "Otrzymujesz tę wiadomość od hubnet z powodu ustawień powiadomień w Twoim centrum.",
		LinkSubject: "Twój link do logowania: %[1]s",
		LinkBody:    "Otwórz poniższy link, aby wybrać hasło i zalogować się do konsoli %[1]s. Działa jeden raz, do %[2]s.",
		LinkOpen:    "Wybierz hasło", LinkCode: "Kod logowania",
		LinkIgnore: "Jeśli nie prosisz o ten link, zignoruj tę wiadomość: nic się nie zmienia, a Twoje hasło nadal działa.",
	},
}

// mailLanguage returns the language of mailLanguages for the BCP 47 tag lang: its
// primary subtag if there is a table for it, English otherwise.
func mailLanguage(lang string) string {
	primary, _, _ := strings.Cut(strings.ToLower(lang), "-")
	if _, ok := mailLanguages[primary]; ok {
		return primary
	}
	return "en"
}

var mailHTML = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family:sans-serif;line-height:1.4">
<h1 style="font-size:1.2em">{{.Subject}}</h1>
<table>{{range .Rows}}<tr><th style="text-align:left;padding-right:1em">{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
<p><a href="{{.URL}}">{{.Open}}</a></p>
<p style="color:#666;font-size:.9em">{{.Footer}}</p>
</body></html>
`))

// renderMail writes the e-mail of ev in the language lang.
func renderMail(lang string, ev api.Event) message {
	l := mailLanguage(lang)
	t := mailLanguages[l]
	r := ev.Referral
	if r == nil { // directory events go to webhooks only
		r = &api.EventReferral{}
	}
	subject := fmt.Sprintf(t.Subjects[ev.Type], r.Partner, r.State)
	if t.Subjects[ev.Type] == "" {
		subject = ev.Type + " " + r.ID
	}
	rows := [][2]string{{t.Partner, r.Partner}, {t.State, r.State}, {t.Family, r.Family}}
	if !r.Due.IsZero() {
		rows = append(rows, [2]string{t.Due, r.Due.UTC().Format("2006-01-02 15:04 MST")})
	}
	if r.Person != "" {
		rows = append(rows, [2]string{t.By, r.Person + " (" + r.By + ")"})
	}
	var text strings.Builder
	text.WriteString(subject + "\n\n")
	for _, row := range rows {
		fmt.Fprintf(&text, "%s: %s\n", row[0], row[1])
	}
	fmt.Fprintf(&text, "\n%s: %s\n\n-- \n%s\n", t.Open, r.URL, t.Footer)
	var html bytes.Buffer
	mailHTML.Execute(&html, map[string]any{"Lang": l, "Subject": subject, "Rows": rows, "URL": r.URL, "Open": t.Open, "Footer": t.Footer})
	return message{Lang: l, Subject: subject, Text: text.String(), HTML: html.String()}
}

var linkHTML = template.Must(template.New("link").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family:sans-serif;line-height:1.4">
<h1 style="font-size:1.2em">{{.Subject}}</h1>
<p>{{.Body}}</p>
<p><a href="{{.URL}}">{{.Open}}</a></p>
<p>{{.CodeLabel}}: <code>{{.Code}}</code></p>
<p style="color:#666;font-size:.9em">{{.Ignore}}</p>
</body></html>
`))

// renderLinkMail writes the e-mail that carries the one-time sign-in link l of the
// hub named hub, in the language lang.
func renderLinkMail(lang, hub string, l api.SignInLink) message {
	lg := mailLanguage(lang)
	t := mailLanguages[lg]
	subject := fmt.Sprintf(t.LinkSubject, hub)
	body := fmt.Sprintf(t.LinkBody, hub, l.Expires.UTC().Format("2006-01-02 15:04 MST"))
	text := fmt.Sprintf("%s\n\n%s\n\n%s: %s\n\n%s: %s\n\n-- \n%s\n", subject, body, t.LinkOpen, l.Link, t.LinkCode, l.Code, t.LinkIgnore)
	var html bytes.Buffer
	linkHTML.Execute(&html, map[string]any{"Lang": lg, "Subject": subject, "Body": body, "URL": l.Link, "Open": t.LinkOpen,
		"CodeLabel": t.LinkCode, "Code": l.Code, "Ignore": t.LinkIgnore})
	return message{Lang: lg, Subject: subject, Text: text, HTML: html.String()}
}
