package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/upgrade-governor/upgrade-governor/web"
)

// uiFile is one file of the embedded UI, read once at start.
type uiFile struct {
	content []byte
	etag    string
}

// UIConfig is what the page needs to know about this deployment (GET /ui/config.json). It
// holds nothing secret: the RPC URL, which may carry a provider's key, stays out.
type UIConfig struct {
	ProgramID         string `json:"program_id"`
	TemporalNamespace string `json:"temporal_namespace"`
}

// mountWeb serves the browser UI (package web) under /ui/, on the API's origin so the page
// calls the API without CORS. The page holds no key: the member's wallet signs what the page
// shows, and the page posts the signed transaction to the governance routes.
func (s *Server) mountWeb(e *gin.Engine) {
	files, err := loadUI(web.Dist())
	if err != nil {
		// The embedded files are part of the binary; failing to read them is a broken build.
		panic(fmt.Sprintf("api: embedded UI: %v", err))
	}
	cfg := UIConfig{ProgramID: s.cfg.ProgramID, TemporalNamespace: s.cfg.TemporalNamespace}
	e.GET("/ui/*file", func(c *gin.Context) {
		uiHeaders(c.Writer.Header())
		name := strings.TrimPrefix(c.Param("file"), "/")
		switch name {
		case "":
			name = "index.html"
		case "config.json":
			c.Header("Cache-Control", "no-cache")
			c.JSON(http.StatusOK, cfg)
			return
		}
		f, ok := files[name]
		if !ok {
			respond(c, newError(http.StatusNotFound, CodeNotFound, "", "the UI has no file %s", name))
			return
		}
		if strings.HasPrefix(name, "assets/") {
			// Vite names these by their content hash: a new build gets new names.
			c.Header("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			c.Header("Cache-Control", "no-cache")
		}
		c.Header("ETag", f.etag)
		http.ServeContent(c.Writer, c.Request, path.Base(name), time.Time{}, bytes.NewReader(f.content))
	})
}

// uiHeaders keep the page out of frames (a wallet prompt under someone else's page is
// clickjacking) and stop content sniffing. Scripts are not restricted by CSP: wallet
// extensions inject theirs into the page.
func uiHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

func loadUI(root fs.FS) (map[string]uiFile, error) {
	files := map[string]uiFile{}
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		files[p] = uiFile{content: b, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := files["index.html"]; !ok {
		return nil, fmt.Errorf("no index.html (run `make web`)")
	}
	return files, nil
}
