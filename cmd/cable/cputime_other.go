//go:build !unix

package main

import "time"

// processCPU is not measured here: benchmarks report no CPU time.
func processCPU() time.Duration { return 0 }

// pidCPU is not measured here.
func pidCPU(int) (time.Duration, bool) { return 0, false }
