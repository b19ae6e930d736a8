// Package schema holds the MoltZap v1 protocol catalogs as JSON Schema (see README.md).
// `go generate ./...` turns them into generated/protocol and docs/protocol.md.
package schema

import "embed"

//go:generate go run ../cmd/moltzapgen generate go --schema . --out ../generated/protocol
//go:generate go run ../cmd/moltzapgen docs --schema . --out ../docs/protocol.md
//go:generate go run ../cmd/moltzapgen generate ts --schema . --out ../generated/ts
//go:generate go run ../cmd/moltzapgen generate python --schema . --out ../generated/python
//go:generate go run ../cmd/moltzapgen generate openrpc --schema . --out ../docs/openrpc.json

// Files holds the catalog files and the meta-schema, for tools that ship without the tree.
//
//go:embed *.json meta/*.json
var Files embed.FS
