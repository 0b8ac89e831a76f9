package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"
	library "github.com/snowgate/snowgate/rego"
)

func TestExpTmp(t *testing.T) {
	b, _ := LoadFS(library.FS)
	in := inputValue(&[]Input{input(analyst(), selectOrders())}[0])
	for _, q := range []string{"x := count(data.snowgate.rules.masking.deny)", "x := count(data.snowgate.rules.masking.mask)", "x := count(data.snowgate.rules.parse.deny)", "x := count(data.snowgate.rules.production.approve)", "x := count(data.snowgate.rules.privileges.deny)", "x := count(data.snowgate.rules.exfiltration.deny)", "x := count(data.snowgate.deny_reasons)", "x := data.snowgate.decision"} {
		cb := *b
		p, err := prepareQ(context.Background(), &cb, q)
		if err != nil {
			t.Fatal(err)
		}
		n := 300
		start := time.Now()
		for range n {
			if _, err := p.Eval(context.Background(), rego.EvalParsedInput(in)); err != nil {
				t.Fatal(err)
			}
		}
		fmt.Printf("%-45s %8.1f µs\n", q, float64(time.Since(start).Microseconds())/float64(n))
	}
}
