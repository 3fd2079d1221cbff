// Command reminders is the reminders function's Lambda entry point.
package main

import (
	"yinling/functions/reminders"
	"yinling/shared/lambdamain"
)

func main() { lambdamain.Run(reminders.Wire, (*reminders.Handler).Handle) }
