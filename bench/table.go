package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// WriteTable writes the report as a markdown table under a header line
// naming the machine.
func (rep *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "`snowgate bench`: %d cores (runtime.NumCPU), %s %s, %s per measurement\n\n", rep.CPUs, rep.GoVersion, rep.Platform, rep.Time)
	b.WriteString("| row | what | snowgate | compared with | ratio | note |\n|---|---|---|---|---|---|\n")
	for _, r := range rep.Rows {
		cells := []string{r.Name, r.What, r.Snowgate, r.Baseline, r.Ratio, r.Note}
		for i, c := range cells {
			cells[i] = cell(c)
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func cell(s string) string {
	if s == "" {
		return "—"
	}
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// fmtDur writes d with three significant digits in ns, µs, ms or s.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	case d < time.Millisecond:
		return sig3(float64(d)/float64(time.Microsecond)) + " µs"
	case d < time.Second:
		return sig3(float64(d)/float64(time.Millisecond)) + " ms"
	}
	return sig3(d.Seconds()) + " s"
}

// sig3 writes v with three significant digits (at least its integer part).
func sig3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// fmtCount writes a rate or a mean count: with thousands separators below
// 10,000, above with k or M and three significant digits.
func fmtCount(v float64) string {
	switch {
	case v >= 1e6:
		return sig3(v/1e6) + "M"
	case v >= 1e4:
		return sig3(v/1e3) + "k"
	}
	return fmtInt(int64(math.Round(v)))
}

// fmtInt writes n with thousands separators.
func fmtInt(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// fmtMicros writes ns as µs: three significant digits, or whole µs with
// thousands separators from 1,000 up.
func fmtMicros(ns float64) string {
	if us := ns / 1e3; us < 1000 {
		return sig3(us)
	}
	return fmtInt(int64(math.Round(ns / 1e3)))
}

// fmtRatio writes a ratio as a factor.
func fmtRatio(v float64) string { return sig3(v) + "×" }

// fmtBytes writes a size in B, KB or MB (powers of 1000).
func fmtBytes(v float64) string {
	switch {
	case v >= 1e6:
		return sig3(v/1e6) + " MB"
	case v >= 1e3:
		return sig3(v/1e3) + " KB"
	}
	return fmt.Sprintf("%.0f B", v)
}
