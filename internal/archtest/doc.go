// Package archtest holds the architecture tests of the module: which package
// may import which (imports_test.go). It has no code of its own.
package archtest
