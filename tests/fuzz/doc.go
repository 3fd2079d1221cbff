// Package fuzz owns the fuzz targets that drive whole functions (issue #9): every HttpApi route
// of template.yaml through its function's real handler, built by the function's own Wire from
// the environment the template declares, and every queue consumer fed an SQS event, all against
// a fake AWS endpoint on 127.0.0.1 that finds nothing and accepts every write. No emulator is
// needed, so `make fuzz` runs them with plain go test.
package fuzz
