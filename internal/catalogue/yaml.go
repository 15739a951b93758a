package catalogue

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// YAML encodes an imported hub's profile as the file `hubnet import edih-xlsx` writes,
// which `hubnet profile apply -f` reads back: a header that names source, the
// export's file name, and lists the hub's notes, and the languages marked for
// checking. It fails for a hub that was not imported.
func (h Hub) YAML(source string) ([]byte, error) {
	if !h.Imported() {
		return nil, fmt.Errorf("row %d was not imported: %s", h.Row, h.Reason)
	}
	var body yaml.Node
	if err := body.Encode(h.Profile); err != nil {
		return nil, fmt.Errorf("encode profile %s: %w", h.ID, err)
	}
	for i := 0; i+1 < len(body.Content); i += 2 {
		if body.Content[i].Value == "inferred" {
			body.Content[i].HeadComment = "Guessed, not declared: they rank the hub but never exclude it. Declare\n" +
				"regions above, as the hub knows them, to override. The languages above\n" +
				"repeat the guessed ones: to declare the hub's own, write them there and\n" +
				"remove languages below."
		}
	}
	head := []string{
		fmt.Sprintf("Made by `hubnet import edih-xlsx` from row %d of %s.", h.Row, oneSpace(source)),
		Attribution + ".",
		"The catalogue has no regions, languages, contact or capacity; the region and the",
		"languages under inferred are guessed from the address and the country. Check every",
		"field and add what is missing, then: hubnet profile apply -f " + h.ID + ".yaml",
	}
	if len(h.Notes) > 0 {
		head = append(head, "", "Notes:")
		for _, n := range h.Notes {
			head = append(head, "  - "+oneSpace(n.String()))
		}
	}
	for i, l := range head {
		head[i] = strings.TrimRight("# "+l, " ")
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: strings.Join(head, "\n"), Content: []*yaml.Node{&body}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode profile %s: %w", h.ID, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode profile %s: %w", h.ID, err)
	}
	return buf.Bytes(), nil
}
