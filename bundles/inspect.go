package bundles

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/bundle"
)

// Info describes a bundle tarball. Nothing in it is verified: the
// signature fields say what the signature claims, not that it holds.
type Info struct {
	Digest    string         `json:"digest"` // sha256 of the tarball
	Size      int            `json:"size"`   // bytes
	Revision  string         `json:"revision"`
	Roots     []string       `json:"roots"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	Modules   []string       `json:"modules"`
	Files     []File         `json:"files"`
	Signature *Signature     `json:"signature,omitempty"` // nil when unsigned
}

// File is one entry of a bundle tarball.
type File struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// Signature is what a bundle's .signatures.json claims, decoded without
// checking it.
type Signature struct {
	KeyID     string `json:"key_id"`
	Algorithm string `json:"algorithm"`
	Scope     string `json:"scope,omitempty"`
	Issuer    string `json:"issuer,omitempty"`
	IssuedAt  int64  `json:"issued_at,omitempty"`
	Files     int    `json:"files"` // how many files the signature covers
}

// Inspect describes a bundle tarball without verifying it.
func Inspect(raw []byte) (*Info, error) {
	b, err := ReadUnverified(raw)
	if err != nil {
		return nil, err
	}
	info := &Info{Digest: Digest(raw), Size: len(raw), Revision: b.Manifest.Revision, Metadata: b.Manifest.Metadata}
	if b.Manifest.Roots != nil {
		info.Roots = *b.Manifest.Roots
	}
	for _, m := range b.Modules {
		info.Modules = append(info.Modules, strings.TrimPrefix(m.Path, "/"))
	}
	sort.Strings(info.Modules)
	sigs, files, err := scanTarball(raw)
	if err != nil {
		return nil, err
	}
	info.Files = files
	if sigs != nil {
		if info.Signature, err = decodeSignature(sigs); err != nil {
			return nil, err
		}
	}
	return info, nil
}

// scanTarball lists a tarball's regular files and returns the contents of
// its .signatures.json, if any.
func scanTarball(raw []byte) (sigs []byte, files []File, err error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, fmt.Errorf("inspect: %w", err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("inspect: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		files = append(files, File{Name: name, Size: h.Size})
		if bundle.IsSignaturesFile(name) {
			if sigs, err = io.ReadAll(io.LimitReader(tr, 1<<20)); err != nil {
				return nil, nil, fmt.Errorf("inspect: %w", err)
			}
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return sigs, files, nil
}

// decodeSignature decodes the header and payload of the JWT in a
// .signatures.json.
func decodeSignature(sigs []byte) (*Signature, error) {
	var sc bundle.SignaturesConfig
	if err := json.Unmarshal(sigs, &sc); err != nil {
		return nil, fmt.Errorf("inspect .signatures.json: %w", err)
	}
	if len(sc.Signatures) != 1 {
		return nil, fmt.Errorf("inspect .signatures.json: %d JWTs (want exactly one)", len(sc.Signatures))
	}
	parts := strings.Split(sc.Signatures[0], ".")
	if len(parts) != 3 {
		return nil, errors.New("inspect .signatures.json: not a compact JWT")
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	var payload struct {
		Files []bundle.FileInfo `json:"files"`
		Scope string            `json:"scope"`
		Iss   string            `json:"iss"`
		Iat   int64             `json:"iat"`
		KeyID string            `json:"keyid"`
	}
	for i, v := range []any{&hdr, &payload} {
		js, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, fmt.Errorf("inspect .signatures.json: %w", err)
		}
		if err := json.Unmarshal(js, v); err != nil {
			return nil, fmt.Errorf("inspect .signatures.json: %w", err)
		}
	}
	s := &Signature{KeyID: hdr.Kid, Algorithm: hdr.Alg, Scope: payload.Scope, Issuer: payload.Iss, IssuedAt: payload.Iat, Files: len(payload.Files)}
	if s.KeyID == "" {
		s.KeyID = payload.KeyID
	}
	return s, nil
}
