// Command admin is the admin function's Lambda entry point.
package main

import (
	"yinling/functions/admin"
	"yinling/shared/lambdamain"
)

func main() { lambdamain.Run(admin.Wire, (*admin.Handler).Handle) }
