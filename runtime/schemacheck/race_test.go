//go:build race

package schemacheck_test

const raceEnabled = true
