// Command signup is the signup function's Lambda entry point.
package main

import (
	"yinling/functions/signup"
	"yinling/shared/lambdamain"
)

func main() { lambdamain.Run(signup.Wire, (*signup.Handler).Handle) }
