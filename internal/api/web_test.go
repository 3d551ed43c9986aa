package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/config"
)

func TestUIServesTheEmbeddedBuild(t *testing.T) {
	srv, _, _ := chainOnlyServer(t)

	r := get(t, srv, "/ui/")
	require.Equal(t, http.StatusOK, r.Code)
	require.Contains(t, r.Header.Get("Content-Type"), "text/html")
	require.Contains(t, string(r.Body), `id="wallet"`)
	require.Equal(t, "no-cache", r.Header.Get("Cache-Control"))
	// Never inside someone else's frame: a wallet prompt over a hidden page is clickjacking.
	require.Contains(t, r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	require.Equal(t, "DENY", r.Header.Get("X-Frame-Options"))

	// The built page references its assets by content-hashed names under /ui/assets/.
	assets := regexp.MustCompile(`/ui/assets/[^"]+\.(js|css)`).FindAllString(string(r.Body), -1)
	require.NotEmpty(t, assets, "index.html names no assets: %s", r.Body)
	for _, a := range assets {
		ar := get(t, srv, a)
		require.Equal(t, http.StatusOK, ar.Code, a)
		require.Contains(t, ar.Header.Get("Cache-Control"), "immutable", a)
		if strings.HasSuffix(a, ".js") {
			require.Contains(t, ar.Header.Get("Content-Type"), "javascript", a)
		}
		etag := ar.Header.Get("ETag")
		require.NotEmpty(t, etag)
		require.Equal(t, http.StatusNotModified, get(t, srv, a, "If-None-Match", etag).Code, a)
	}

	r = get(t, srv, "/ui/config.json")
	require.Equal(t, http.StatusOK, r.Code)
	var cfg api.UIConfig
	require.NoError(t, json.Unmarshal(r.Body, &cfg))
	require.Equal(t, api.UIConfig{ProgramID: config.DefaultProgramID, TemporalNamespace: "default"}, cfg)

	r = get(t, srv, "/ui/assets/nothing-here.js")
	requireError(t, r, http.StatusNotFound, api.CodeNotFound, "")

	r = get(t, srv, "/ui")
	require.Equal(t, http.StatusMovedPermanently, r.Code)
	require.Equal(t, "/ui/", r.Header.Get("Location"))
}
