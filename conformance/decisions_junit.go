package conformance

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
)

// JUnit XML, as CI systems read it.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteDecisionsJUnit writes results as JUnit XML, one suite per case file.
func WriteDecisionsJUnit(w io.Writer, results []DecisionResult) error {
	bySuite := map[string]*junitSuite{}
	var order []string
	all := junitSuites{Name: "snowgate decision conformance"}
	suiteTime := map[string]float64{}
	for _, r := range results {
		s, ok := bySuite[r.Case.File]
		if !ok {
			s = &junitSuite{Name: "decisions/" + r.Case.File}
			bySuite[r.Case.File] = s
			order = append(order, r.Case.File)
		}
		jc := junitCase{Name: r.Case.Name, Classname: "decisions." + strings.TrimSuffix(r.Case.File, ".yaml"), Time: seconds(r.Duration.Seconds())}
		switch {
		case r.Skipped != "":
			jc.Skipped = &junitMessage{Message: "known gap: " + r.Skipped, Text: strings.Join(r.Failures, "\n")}
			s.Skipped++
			all.Skipped++
		case len(r.Failures) > 0:
			jc.Failure = &junitMessage{Message: r.Failures[0], Text: r.Case.SQL + "\n\n" + strings.Join(r.Failures, "\n")}
			s.Failures++
			all.Failures++
		}
		s.Tests++
		all.Tests++
		s.Cases = append(s.Cases, jc)
		suiteTime[r.Case.File] += r.Duration.Seconds()
	}
	slices.Sort(order)
	for _, f := range order {
		bySuite[f].Time = seconds(suiteTime[f])
		all.Suites = append(all.Suites, *bySuite[f])
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(s float64) string { return fmt.Sprintf("%.6f", s) }
