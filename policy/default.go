package policy

import _ "embed"

// defaultYAML is the built-in default policy document, with the reasoning
// for each choice in its comments.
//
//go:embed default.yaml
var defaultYAML []byte
