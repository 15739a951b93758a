package protocol

import (
	"errors"
	"strings"
	"testing"
)

// A value with many bad entries gets MaxProblems problems and one that counts the
// rest, so that an answer to it stays small.
func TestValidationError_manyProblems(t *testing.T) {
	q := Query{Languages: strings.Split(strings.Repeat("x,", 1000)+"x", ",")}
	var ve *ValidationError
	if err := q.Validate(); !errors.As(err, &ve) {
		t.Fatalf("got %v, want a *ValidationError", err)
	}
	if len(ve.Problems) != MaxProblems+1 {
		t.Fatalf("got %d problems, want %d", len(ve.Problems), MaxProblems+1)
	}
	if got := ve.Problems[MaxProblems-1]; got.Field != "languages.99" {
		t.Errorf("problem %d: got %+v, want languages.99", MaxProblems-1, got)
	}
	want := FieldError{Field: MoreProblems, Rule: "901 more problems not listed"}
	if got := ve.Problems[MaxProblems]; got != want {
		t.Errorf("last problem: got %+v, want %+v", got, want)
	}
	if len(ve.Error()) > 16<<10 {
		t.Errorf("message of %d bytes", len(ve.Error()))
	}

	// Up to the limit, every problem is listed.
	q.Languages = q.Languages[:MaxProblems]
	if err := q.Validate(); !errors.As(err, &ve) || len(ve.Problems) != MaxProblems || ve.Problems[MaxProblems-1].Field == MoreProblems {
		t.Fatalf("%d bad languages: got %v", MaxProblems, err)
	}
}
