package tenant

import "testing"

// Store and staff ids end up inside table keys: an id with the '#' separator could address
// another tenant's items, so it must never pass.
func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"demo": true, "s-1": true, "staff_9": true, "a": true,
		"": false, "s#1": false, "STORE#x": false, "with space": false, "中文": false,
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": false, // 65
	} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestRoleValid(t *testing.T) {
	for r, want := range map[Role]bool{RoleStaff: true, RoleManager: true, "member": false, "": false} {
		if got := r.Valid(); got != want {
			t.Errorf("Role(%q).Valid() = %v, want %v", r, got, want)
		}
	}
}
