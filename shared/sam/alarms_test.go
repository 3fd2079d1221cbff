package sam

import (
	"testing"
)

// Every queue some RedrivePolicy (or a function's DeadLetterQueue) sends failed messages to is a
// dead-letter queue, whatever its name, and must have an alarm on its depth; every function,
// one on its errors. TestProjectAlarms checks the alarms' shape; this one derives what must be
// watched from the template's wiring rather than from names.
func TestEveryDeadLetterQueueAndFunctionAlarms(t *testing.T) {
	tmpl := loadProject(t)
	dlqs := map[string]bool{}
	for _, q := range tmpl.Queues() {
		if target, ok := mapAt(q.Properties, "RedrivePolicy")["deadLetterTargetArn"].(Value); ok {
			dlqs[target.Name] = true
		}
	}
	for _, f := range tmpl.Functions {
		if target, ok := mapAt(tmpl.Resources[f.LogicalID].Properties, "DeadLetterQueue")["TargetArn"].(Value); ok {
			dlqs[target.Name] = true
		}
	}
	if len(dlqs) == 0 {
		t.Fatal("no dead-letter queue found through RedrivePolicy: the template's wiring is not read")
	}
	depth, errs := map[string]bool{}, map[string]bool{}
	for _, r := range tmpl.Resources {
		if r.Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		dims, _ := r.Properties["Dimensions"].([]any)
		for _, d := range dims {
			dm, _ := d.(map[string]any)
			v, _ := dm["Value"].(Value)
			switch {
			case r.Properties["MetricName"] == "ApproximateNumberOfMessagesVisible" && v.Kind == GetAtt:
				depth[v.Name] = true
			case r.Properties["MetricName"] == "Errors" && v.Kind == Ref:
				errs[v.Name] = true
			}
		}
	}
	for q := range dlqs {
		if tmpl.Resources[q].Type != TypeQueue {
			t.Errorf("dead-letter target %s is not a queue of the template", q)
		}
		if !depth[q] {
			t.Errorf("dead-letter queue %s has no alarm on ApproximateNumberOfMessagesVisible", q)
		}
	}
	for _, f := range tmpl.Functions {
		if !errs[f.LogicalID] {
			t.Errorf("function %s has no alarm on Errors", f.LogicalID)
		}
	}
	t.Logf("%d dead-letter queues and %d functions, each with its alarm", len(dlqs), len(tmpl.Functions))
}
