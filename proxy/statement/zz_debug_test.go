package statement

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

func TestDebugCorpus(t *testing.T) {
	f, _ := os.Open("/work/shared/corpora/sqlglot-snowflake.jsonl")
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	env := Env{Database: "DB", Schema: "PUBLIC"}
	n, unk := 0, 0
	for sc.Scan() {
		var l struct{ SQL string }
		json.Unmarshal(sc.Bytes(), &l)
		sts, err := Analyze(context.Background(), l.SQL, env)
		n++
		if err != nil {
			fmt.Println("ERR", err, l.SQL)
			unk++
			continue
		}
		for _, s := range sts {
			if s.Kind == KindUnknown || (os.Getenv("SHOWALL") != "") {
				if s.Kind == KindUnknown {
					unk++
				}
				b, _ := json.Marshal(map[string]any{"k": s.Kind, "o": s.Objects, "e": s.Parse.Error})
				fmt.Printf("%s\n   %s\n", l.SQL, b)
			}
		}
	}
	fmt.Println("total", n, "unknown", unk)
}
