// Package web is the browser UI's build output, embedded so that the apiserver serves it and a
// Go build needs no Node.js: `make web` builds dist/ from src/ with Vite, `make web-check`
// fails when the committed dist/ is stale.
package web

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// Dist is the built UI: index.html at its root, content-hashed files under assets/.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path; fs.Sub fails only on invalid ones
	}
	return sub
}
