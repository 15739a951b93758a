package node

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"

	"github.com/hubnet-eu/hubnet/api"
)

// The texts of notification e-mails, in English, German and French. A recipient
// whose language is another gets English. Each language is one table: a subject per
// event type (%[1]s is the partner hub, %[2]s the referral's state) and the
// sentences around it.

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
		Open:   "Open the referral",
		Footer: "You receive this e-mail from hubnet because of your notification settings at your hub.",
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
		Open:   "Vermittlung öffnen",
		Footer: "Sie erhalten diese E-Mail von hubnet wegen Ihrer Benachrichtigungseinstellungen bei Ihrem Hub.",
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
		Open:   "Ouvrir l’orientation",
		Footer: "Vous recevez cet e-mail de hubnet en raison de vos réglages de notification auprès de votre hub.",
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
