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
	for _, q := range []string{"x := count(data.snowgate.rules.masking.mask)"} {
		cb := *b
		p, err := prepareQ(context.Background(), &cb, q)
		if err != nil {
			t.Fatal(err)
		}
		n := 20000
		start := time.Now()
		for range n {
			if _, err := p.Eval(context.Background(), rego.EvalParsedInput(in)); err != nil {
				t.Fatal(err)
			}
		}
		fmt.Printf("%-45s %8.1f µs\n", q, float64(time.Since(start).Microseconds())/float64(n))
	}
}
