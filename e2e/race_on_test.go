//go:build race

package e2e_test

// raceDetector tells whether the tests run under the race detector, which
// makes every instruction several times slower.
const raceDetector = true
