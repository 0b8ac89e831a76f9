package audit

import (
	"errors"
	"testing"
)

func TestClassificationEvent(t *testing.T) {
	e := Event{Type: TypeClassification, Identity: &Identity{Subject: "u-3001"}, Classification: &Classification{Op: "inherited", Records: []ClassificationRecord{
		{ID: "cls-1", Column: "DEMO.PUBLIC.COPY.EMAIL", Class: "pii", Strategy: "email_domain", From: []string{"DEMO.PUBLIC.CUSTOMERS.EMAIL"}},
	}}}
	if err := e.validate(); err != nil {
		t.Fatal(err)
	}
	want := "classification inherited: DEMO.PUBLIC.COPY.EMAIL=pii/email_domain from DEMO.PUBLIC.CUSTOMERS.EMAIL"
	if got := Summary(e); got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	forgot := Event{Type: TypeClassification, Classification: &Classification{Op: "forgotten", Reason: "test data",
		Records: []ClassificationRecord{{ID: "cls-1", Column: "DEMO.PUBLIC.COPY.EMAIL", Class: "pii", Strategy: "email_domain"}}}}
	if got := Summary(forgot); got != "classification forgotten: DEMO.PUBLIC.COPY.EMAIL=pii/email_domain (test data)" {
		t.Errorf("summary %q", got)
	}
	if err := (&Event{Type: TypeClassification}).validate(); !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("a classification event without a Classification: %v", err)
	}
}
