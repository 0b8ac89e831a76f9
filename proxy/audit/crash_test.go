package audit

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// crashChildEnv, when set to a DSN, turns the test binary into a writer
// that records statements from 8 goroutines until it is killed, printing
// the id of every record whose Record call returned.
const crashChildEnv = "SNOWGATE_AUDIT_CRASH_DSN"

func crashChild(dsn string) {
	l, err := Open(context.Background(), Config{
		DSN: dsn, Replica: "crash", SigningKey: testKey(), CheckpointEvery: 50,
		CheckpointInterval: 200 * time.Millisecond, Logger: quietLogger(),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(3)
	}
	var mu sync.Mutex
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; ; i++ {
				id, err := l.Record(context.Background(), statementEvent(fmt.Sprintf("g%d", g), i))
				if err != nil {
					fmt.Fprintln(os.Stderr, "crash child: record:", err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintln(os.Stdout, id) // one write(2): the parent sees it even if we die next
				mu.Unlock()
			}
		}()
	}
	select {}
}

// TestLog_CrashLosesNothingAcknowledged kills (SIGKILL) a process in the
// middle of recording from 8 goroutines, then checks that the chain
// verifies, that every record whose Record call had returned is there, and
// that a restarted log continues the chain.
func TestLog_CrashLosesNothingAcknowledged(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			dsn := k.dsn(t)
			for round := 1; round <= 2; round++ { // the second round starts over the first crash
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), crashChildEnv+"="+dsn)
				cmd.Stderr = os.Stderr
				out, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				acked := map[string]bool{}
				sc := bufio.NewScanner(out)
				killed := false
				timeout := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
				for sc.Scan() {
					acked[sc.Text()] = true
					if len(acked) == 400 && !killed {
						cmd.Process.Kill() // SIGKILL; lines already written still arrive
						killed = true
					}
				}
				timeout.Stop()
				_ = cmd.Wait()
				if !killed {
					t.Fatalf("round %d: the child stopped after %d records without being killed", round, len(acked))
				}

				s := openStore(t, dsn)
				rep := verify(t, s, VerifyOptions{PublicKeys: testPublicKeys()})
				if !rep.OK() {
					t.Fatalf("round %d: chain does not verify after the crash:\n%s", round, problems(rep))
				}
				stored := map[string]bool{}
				if err := s.Chain(context.Background(), "crash", func(r Record) error { stored[r.ID()] = true; return nil }); err != nil {
					t.Fatal(err)
				}
				for id := range acked {
					if !stored[id] {
						t.Errorf("round %d: record %s was acknowledged but is not in the store", round, id)
					}
				}
				t.Logf("round %d: %d acknowledged, %d stored, %d after the last checkpoint", round, len(acked), len(stored), rep.Replicas[0].Unanchored)
			}
			l := openLog(t, dsn, "crash", 10)
			if _, err := l.Record(context.Background(), statementEvent("after", 1)); err != nil {
				t.Fatalf("Record after restart: %v", err)
			}
			l.Close()
			if rep := verify(t, openStore(t, dsn), VerifyOptions{PublicKeys: testPublicKeys()}); !rep.OK() {
				t.Fatalf("chain does not verify after the restart:\n%s", problems(rep))
			}
		})
	}
}
