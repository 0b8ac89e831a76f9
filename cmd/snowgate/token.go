package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/snowgate/snowgate/proxy/devidp"
)

func init() {
	commands["token"] = command{
		summary: "print a token from the running dev issuer for a demo identity",
		run:     runToken,
	}
}

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token", "token --as NAME [--addr HOST:PORT]", stderr)
	as := fs.String("as", "", fmt.Sprintf("demo identity: one of %v", devidp.Names()))
	addr := fs.String("addr", defaultAdminAddr, "address of snowgate dev's admin server (the dev issuer)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *as == "" {
		return fmt.Errorf("--as is required: one of %v", devidp.Names())
	}
	tok, err := devToken(ctx, *addr, *as)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// devToken asks snowgate dev's issuer for a demo identity's token.
func devToken(ctx context.Context, addr, as string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/dev/token?as="+url.QueryEscape(as), nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("dev issuer at %s not reachable (is `snowgate dev` running?): %w", addr, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("dev issuer: %s", strings.TrimSpace(string(body)))
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("dev issuer answered without a token")
	}
	return tok.AccessToken, nil
}
