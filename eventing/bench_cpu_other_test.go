//go:build !unix

package eventing_test

import "time"

// processCPU is not measured on this platform; CPU ratios read as NaN.
func processCPU() time.Duration { return 0 }
