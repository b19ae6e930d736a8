// Package gen turns the MoltZap protocol catalogs in schema/ into an intermediate model
// (methods, notifications, callbacks, named types, errors) that emitters render as Go,
// Markdown and a bundled JSON Schema.
//
// Loading keeps the source order of every JSON object and the JSON pointer of every node, so
// a problem is always reported as "file: /json/pointer: message" and output is deterministic.
package gen
