// Command web is the web function's Lambda entry point.
package main

import (
	"yinling/functions/web"
	"yinling/shared/lambdamain"
)

func main() { lambdamain.RunWithoutAWS(web.Wire, (*web.Handler).Handle) }
