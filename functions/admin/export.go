package admin

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"time"

	"yinling/shared/apigw"
	"yinling/shared/dynamostore"
	"yinling/shared/i18n"
	"yinling/shared/member"
	"yinling/shared/tenant"
)

// DefaultExportMax bounds an export: a store's group is a few hundred seniors, and 5000 rows
// take 57 DynamoDB calls (ExportGroupMembers) and well under a second, far inside the function's
// timeout, in about 600 KB, far under Lambda's 6 MB response.
const DefaultExportMax = 5000

// exportMembers is a group's members as a CSV file for a spreadsheet: UTF-8 with a byte order
// mark (without it Excel reads UTF-8 as the local code page and the Chinese turns to mojibake),
// a header row in the caller's language, CRLF line ends. Phones are masked as everywhere on the
// staff side: a file gets mailed, copied to a USB stick and forwarded in chats, so it carries
// only what recognises a member at the counter (尾号), never a number anyone can dial or text —
// calls and messages go through the platform, which checks consent and quiet hours. A group
// larger than the bound gets its first rows and a last row saying so (and the
// X-Export-Truncated header).
func (h *Handler) exportMembers(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	staff, groupID, err := staffAndGroup(r)
	if err != nil {
		return apigw.Response{}, err
	}
	max := h.d.ExportMax
	if max <= 0 {
		max = DefaultExportMax
	}
	exp, err := h.d.Store.ExportGroupMembers(ctx, staff.StoreID, groupID, max)
	if err != nil {
		return apigw.Response{}, err
	}
	body, err := membersCSV(exp, apigw.Lang(r), h.d.Now(), max)
	if err != nil {
		return apigw.Response{}, fmt.Errorf("export members of %s: %w", groupID, err)
	}
	resp := apigw.Response{
		StatusCode: http.StatusOK,
		Headers: map[string]string{
			"content-type":           "text/csv; charset=utf-8",
			"content-disposition":    `attachment; filename="members-` + groupID + `.csv"`, // a ULID: nothing to escape
			"cache-control":          "no-store",
			"x-content-type-options": "nosniff",
		},
		// Text, so no base64: the payload's JSON string carries UTF-8 as it is.
		Body: body,
	}
	if exp.Truncated {
		resp.Headers["x-export-truncated"] = "true"
	}
	return resp, nil
}

// csvText is what a CSV file says in one language. It lives here, not in the i18n catalog,
// because only this file uses it.
type csvText struct {
	header    []string // the join-time column's heading takes the time zone's name
	status    map[member.Status]string
	path      map[member.JoinPath]string
	tier      map[member.Tier]string
	age       map[member.AgeBand]string
	tagSep    string
	truncated string // takes the number of rows
}

var csvTexts = map[i18n.Lang]csvText{
	i18n.ZhCN: {
		header: []string{"会员编号", "姓名", "手机号（已隐藏）", "年龄段", "会员等级", "标签", "状态", "加入方式", "加入时间（%s）", "推荐人编号"},
		status: map[member.Status]string{member.StatusActive: "已入群", member.StatusPendingApproval: "待审核",
			member.StatusPendingVerification: "待验证手机号"},
		path: map[member.JoinPath]string{member.PathQR: "扫群二维码", member.PathInvite: "店员邀请", member.PathReferral: "会员推荐"},
		tier: map[member.Tier]string{member.TierMember: "普通会员", member.TierLeader: "群主（意见领袖）", member.TierPartner: "核心伙伴"},
		age: map[member.AgeBand]string{member.AgeUnder60: "60岁以下", member.Age60s: "60–69岁", member.Age70s: "70–79岁",
			member.Age80s: "80–89岁", member.Age90Plus: "90岁及以上"},
		tagSep:    "；",
		truncated: "只导出了前 %d 名成员，这个群还有更多成员没有导出。",
	},
	i18n.En: {
		header: []string{"Member ID", "Name", "Phone (masked)", "Age band", "Tier", "Tags", "Status", "Joined by", "Joined at (%s)", "Referrer ID"},
		status: map[member.Status]string{member.StatusActive: "active", member.StatusPendingApproval: "waiting for approval",
			member.StatusPendingVerification: "phone not verified"},
		path: map[member.JoinPath]string{member.PathQR: "group QR code", member.PathInvite: "staff invite", member.PathReferral: "member referral"},
		tier: map[member.Tier]string{member.TierMember: "member", member.TierLeader: "leader", member.TierPartner: "partner"},
		age: map[member.AgeBand]string{member.AgeUnder60: "under 60", member.Age60s: "60–69", member.Age70s: "70–79",
			member.Age80s: "80–89", member.Age90Plus: "90 and over"},
		tagSep:    "; ",
		truncated: "Only the first %d members were exported; the group has more.",
	},
}

// membersCSV renders an export; join times are in the store's time zone, as staff read them.
func membersCSV(exp dynamostore.MemberExport, lang i18n.Lang, now time.Time, max int) (string, error) {
	t, ok := csvTexts[lang]
	if !ok {
		t = csvTexts[i18n.ZhCN]
	}
	zone := exp.Store.TimeZone
	loc, err := member.ParseTimeZone(zone)
	if err != nil {
		zone = tenant.DefaultTimeZone
		loc, _ = member.ParseTimeZone(zone)
	}
	var sb strings.Builder
	sb.WriteString("\uFEFF")
	w := csv.NewWriter(&sb)
	w.UseCRLF = true // what spreadsheet apps write, and read most reliably
	header := make([]string, len(t.header))
	for i, h := range t.header {
		if strings.Contains(h, "%s") {
			h = fmt.Sprintf(h, zone)
		}
		header[i] = h
	}
	if err := w.Write(header); err != nil {
		return "", err
	}
	for _, gm := range exp.Rows {
		m, ms := gm.Member, gm.Membership
		if err := w.Write([]string{
			cell(m.ID), cell(m.Name), cell(m.Phone.Masked()), cell(label(t.age, m.AgeBand(now))),
			cell(label(t.tier, m.Tier)), cell(strings.Join(m.Tags, t.tagSep)), cell(label(t.status, ms.Status)),
			cell(label(t.path, ms.Path)), cell(ms.JoinedAt.In(loc).Format("2006-01-02 15:04")), cell(ms.ReferrerID),
		}); err != nil {
			return "", err
		}
	}
	if exp.Truncated {
		// As wide as the other rows: strict readers (pandas, Numbers) refuse a ragged file.
		note := make([]string, len(header))
		note[0] = cell(fmt.Sprintf(t.truncated, max))
		if err := w.Write(note); err != nil {
			return "", err
		}
	}
	w.Flush()
	return sb.String(), w.Error()
}

// label is a value's text, or the value itself for one the table does not know.
func label[K ~string](texts map[K]string, v K) string {
	if s, ok := texts[v]; ok {
		return s
	}
	return string(v)
}

// cell guards against CSV (formula) injection: a spreadsheet runs a cell that starts with
// = + - @ (or a tab or carriage return before one) as a formula, so such a cell — a tag staff
// typed, or a masked phone's "+86" — gets a leading apostrophe and stays text.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
