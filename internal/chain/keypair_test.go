package chain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"
)

func writeKeypairFile(t *testing.T, values []int) string {
	t.Helper()
	raw, err := json.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func keyValues(k solana.PrivateKey) []int {
	out := make([]int, len(k))
	for i, b := range k {
		out[i] = int(b)
	}
	return out
}

func TestLoadKeypairReadsSolanaCLIFiles(t *testing.T) {
	priv := solana.NewWallet().PrivateKey
	kp, err := LoadKeypair(writeKeypairFile(t, keyValues(priv)))
	if err != nil {
		t.Fatal(err)
	}
	if !kp.PublicKey().Equals(priv.PublicKey()) {
		t.Fatalf("loaded %s, want %s", kp.PublicKey(), priv.PublicKey())
	}
}

func TestLoadKeypairErrorsNeverQuoteTheFile(t *testing.T) {
	priv := solana.NewWallet().PrivateKey
	good := keyValues(priv)
	mismatched := append([]int{}, good...)
	mismatched[40] ^= 1
	outOfRange := append([]int{}, good...)
	outOfRange[3] = 300
	cases := map[string][]int{
		"short":        good[:63],
		"mismatched":   mismatched,
		"out of range": outOfRange,
	}
	for name, values := range cases {
		file := writeKeypairFile(t, values)
		_, err := LoadKeypair(file)
		if err == nil {
			t.Errorf("%s: loaded", name)
			continue
		}
		// The file's path may hold any digits (t.TempDir's random part): look past it.
		msg := strings.ReplaceAll(err.Error(), file, "<file>")
		if strings.Contains(msg, "300") || strings.Contains(msg, fmt.Sprint(good[0])+",") {
			t.Errorf("%s: error quotes key material: %v", name, err)
		}
	}
	path := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(path, []byte(`"`+priv.String()+`"`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeypair(path); err == nil || strings.Contains(err.Error(), priv.String()) {
		t.Errorf("base58 file: %v", err)
	}
	if _, err := LoadKeypair(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file loaded")
	}
}

func TestKeypairNeverPrintsItsSecret(t *testing.T) {
	kp, err := NewKeypair()
	if err != nil {
		t.Fatal(err)
	}
	secret := kp.key.String()
	secretBytes := fmt.Sprint([]byte(kp.key))
	secretHex := fmt.Sprintf("%x", []byte(kp.key[:32]))

	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, kp), fmt.Sprintf(verb, *kp))
	}
	outputs = append(outputs, fmt.Sprintf("%v", struct{ K *Keypair }{kp}), fmt.Sprintf("%+v", struct{ K Keypair }{*kp}))
	js, err := json.Marshal(struct{ K *Keypair }{kp})
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(js))
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("signer", "kp", kp, "value", *kp)
	outputs = append(outputs, logged.String())

	for _, out := range outputs {
		if strings.Contains(out, secret) || strings.Contains(out, secretBytes) || strings.Contains(out, secretHex) {
			t.Fatalf("secret in output %q", out)
		}
		if !strings.Contains(out, kp.PublicKey().String()) {
			t.Errorf("output %q does not name the public key", out)
		}
	}
}
