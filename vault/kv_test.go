package vault

import (
	"context"
	"errors"
	"testing"

	"github.com/snowgate/snowgate/proxy"
)

func TestKV_Acquire(t *testing.T) {
	for _, tc := range []struct {
		name    string
		kv      *KV
		data    map[string]any
		want    proxy.OpenParams
		wantErr error
	}{
		{"v2 password", &KV{Path: "snowflake"}, map[string]any{"username": "SVC", "password": "pw-secret-kv"}, proxy.OpenParams{User: "SVC", Password: "pw-secret-kv", Database: "DEMO"}, nil},
		{"v2 private key", &KV{Path: "/snowflake/"}, map[string]any{"username": "SVC", "private_key": "PEM"}, proxy.OpenParams{User: "SVC", PrivateKey: "PEM", Database: "DEMO"}, nil},
		{"v1", &KV{Mount: "kv1", Path: "snowflake", Version: 1}, map[string]any{"username": "SVC", "password": "p"}, proxy.OpenParams{User: "SVC", Password: "p", Database: "DEMO"}, nil},
		{"no username", &KV{Path: "snowflake"}, map[string]any{"password": "p"}, proxy.OpenParams{}, ErrBadSecret},
		{"no password or key", &KV{Path: "snowflake"}, map[string]any{"username": "SVC"}, proxy.OpenParams{}, ErrBadSecret},
		{"not a string", &KV{Path: "snowflake"}, map[string]any{"username": "SVC", "password": 12}, proxy.OpenParams{}, ErrBadSecret},
		{"missing secret", &KV{Path: "other"}, nil, proxy.OpenParams{}, ErrBadSecret},
		{"bad version", &KV{Path: "snowflake", Version: 3}, nil, proxy.OpenParams{}, ErrConfig},
		{"no path", &KV{}, nil, proxy.OpenParams{}, ErrConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeVault(t)
			f.set(func(f *fakeVault) { f.kv = tc.data })
			tc.kv.Client = newTestClient(t, f, Token{Token: "root-token-xyz"}, nil)
			cr, err := tc.kv.Acquire(context.Background(), nil, proxy.OpenParams{Database: "DEMO"})
			got := cr.Params
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Acquire error = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				assertNoSecrets(t, []string{"pw-secret-kv"}, err.Error())
				return
			}
			if cr.Release != nil || cr.Withdrawn != nil {
				t.Error("static credentials from KV came with a lease to release or watch")
			}
			if got != tc.want {
				t.Errorf("OpenParams\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
