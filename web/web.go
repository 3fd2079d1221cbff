// Package web holds the H5 pages as they ship: html/template files (one per page, plus the layout
// every page shares) and the static files they reference (one stylesheet for all pages, small
// vanilla scripts). No build step and nothing from a third party: what is here is what a phone
// downloads. The web function (functions/web) renders and serves them; this package only embeds
// them, so tests and the local stack read the same bytes Lambda does.
package web

import (
	"embed"
	"io/fs"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static/*
var static embed.FS

// Templates returns the page templates: layout.html and one file per page, at the root.
func Templates() fs.FS { return sub(templates, "templates") }

// Static returns the files served under /static/, at the root.
func Static() fs.FS { return sub(static, "static") }

func sub(f embed.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil { // fs.Sub fails only on an invalid path, and dir is a constant
		panic(err)
	}
	return s
}
