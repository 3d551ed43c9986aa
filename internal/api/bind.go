package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gin-gonic/gin"
)

// bindJSON decodes the body into v strictly: one JSON object, no unknown fields, the right
// types. Errors name the field at fault.
func bindJSON(c *gin.Context, v any) error {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var maxBytes *http.MaxBytesError
		if errors.As(err, &maxBytes) {
			return err
		}
		return badRequest(CodeMalformedJSON, "", "the body holds more than one JSON value")
	}
	return nil
}

// bindOptionalJSON is bindJSON for routes whose body may be absent.
func bindOptionalJSON(c *gin.Context, v any) (present bool, err error) {
	if c.Request.Body == nil || c.Request.ContentLength == 0 {
		return false, nil
	}
	return true, bindJSON(c, v)
}

func decodeError(err error) error {
	var (
		maxBytes  *http.MaxBytesError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &maxBytes):
		return err
	case errors.Is(err, io.EOF):
		return badRequest(CodeMalformedJSON, "", "the request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest(CodeMalformedJSON, "", "the JSON body ends early")
	case errors.As(err, &syntaxErr):
		return badRequest(CodeMalformedJSON, "", "invalid JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return badRequest(CodeMalformedJSON, "", "the body must be a JSON object")
		}
		return invalidField(field, "want %s, got JSON %s", typeErr.Type, typeErr.Value)
	}
	// encoding/json reports unknown fields only as text.
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		field, _ := strconv.Unquote(strings.TrimPrefix(msg, "json: unknown field "))
		return badRequest(CodeUnknownField, field, "unknown field %q", field)
	}
	return badRequest(CodeMalformedJSON, "", "%v", err)
}

// pubkeyField parses a required base58 address.
func pubkeyField(field, v string) (solana.PublicKey, error) {
	if v == "" {
		return solana.PublicKey{}, badRequest(CodeMissingField, field, "%s is required", field)
	}
	k, err := solana.PublicKeyFromBase58(v)
	if err != nil {
		return solana.PublicKey{}, invalidField(field, "not a base58 address: %v", err)
	}
	return k, nil
}

// Query parameters.

func queryPubkey(c *gin.Context, name string) (string, error) {
	v := c.Query(name)
	if v == "" {
		return "", nil
	}
	if _, err := solana.PublicKeyFromBase58(v); err != nil {
		return "", invalidField(name, "not a base58 address: %v", err)
	}
	return v, nil
}

func queryInt(c *gin.Context, name string, def, min, max int) (int, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, invalidField(name, "want an integer from %d to %d, got %q", min, max, v)
	}
	return n, nil
}

func queryTime(c *gin.Context, name string) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, invalidField(name, "want an RFC 3339 time (2026-11-25T10:00:00Z), got %q", v)
	}
	return t, nil
}

// pathPubkey parses the :id path parameter as an address.
func pathPubkey(c *gin.Context) (solana.PublicKey, error) {
	v := c.Param("id")
	k, err := solana.PublicKeyFromBase58(v)
	if err != nil {
		return solana.PublicKey{}, invalidField("id", "the path's id must be a base58 proposal address: %v", err)
	}
	return k, nil
}

func fmtTime(unix int64) *time.Time {
	if unix == 0 {
		return nil
	}
	t := time.Unix(unix, 0).UTC()
	return &t
}
