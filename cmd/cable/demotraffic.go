package main

import (
	"time"

	cable "github.com/cable-archive/cable"
)

// demoTraffic is a little traffic of the kind a demo node carries, in the
// project's own words.
func demoTraffic(now time.Time) []*cable.Cable {
	in := func(years int) cable.DeclassifyOn {
		return cable.DeclassifyOn{Date: time.Date(now.Year()+years, now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)}
	}
	action := func(s string) cable.Addressee { return cable.Addressee{Station: s, Role: cable.RoleAction} }
	info := func(s string) cable.Addressee { return cable.Addressee{Station: s, Role: cable.RoleInfo} }
	p := func(n int, c cable.Classification, text string) cable.Paragraph {
		return cable.Paragraph{Number: n, Classification: c, Text: text}
	}
	return []*cable.Cable{
		{
			Station: "MOSCOW", Precedence: cable.Immediate, Classification: cable.Secret,
			To:   []cable.Addressee{action("STATE"), info("LONDON"), info("PARIS")},
			Tags: []string{"PREL", "PGOV", "UR"}, Subject: "FOREIGN MINISTRY HARDENS LINE ON ACCESS TALKS",
			Paragraphs: []cable.Paragraph{
				p(1, cable.Confidential, "Summary: In a ninety-minute meeting today the First Deputy Foreign Minister told the Ambassador that Moscow sees no basis for resuming the access talks until the Western side withdraws its latest proposal. His tone was measured but the substance was the hardest we have heard this year. End summary."),
				p(2, cable.Secret, "A contact in the Ministry's planning staff, who has reported reliably before, says the decision was taken at the highest level last week over the objections of the Ministry's own experts. He believes the leadership wants to test whether the allies will hold together before the spring ministerial."),
				p(3, cable.Unclassified, "The Ministry's press spokesman repeated the public line at his weekly briefing without adding anything new."),
				p(4, cable.Confidential, "Comment: We recommend that the Department consult London and Paris before any reply, and that the allies answer together and in writing. A divided answer is what Moscow is waiting for."),
			},
			Signature: "HOLLOWAY",
			Authority: &cable.Authority{ClassifiedBy: "DAVID HOLLOWAY, POLITICAL COUNSELOR", Reason: "1.4 (B) AND (D)", DeclassifyOn: in(10)},
		},
		{
			Station: "LONDON", Precedence: cable.Priority, Classification: cable.Confidential,
			To:   []cable.Addressee{action("STATE"), info("PARIS")},
			Tags: []string{"ECON", "ETRD", "UK"}, Subject: "TREASURY VIEWS ON THE TARIFF ROUND",
			Paragraphs: []cable.Paragraph{
				p(1, cable.Confidential, "Treasury officials told Econ Counselor on Tuesday that the Chancellor will not accept a further cut in agricultural tariffs unless the other members move first on services."),
				p(2, cable.Unclassified, "The Treasury published its annual trade statistics the same morning; copies are being pouched to the Department."),
			},
			Signature: "MARSH",
			Authority: &cable.Authority{ClassifiedBy: "ELLEN MARSH, ECONOMIC COUNSELOR", Reason: "1.4 (D)", DeclassifyOn: in(8)},
		},
		{
			Station: "ANKARA", Precedence: cable.Routine, Classification: cable.Secret,
			To:   []cable.Addressee{action("STATE")},
			Tags: []string{"PREL", "MARR", "TU"}, Subject: "TURKISH GENERAL STAFF ASKS ABOUT STRAITS EXERCISE",
			Paragraphs: []cable.Paragraph{
				p(1, cable.Secret, "The Deputy Chief of the General Staff asked the Defense Attache whether the United States would take part in the naval exercise planned for the Straits in the autumn, and said Turkey would welcome a visible presence."),
				p(2, cable.Confidential, "Embassy would appreciate guidance before the next meeting of the joint committee on the 14th."),
			},
			Signature: "CARVER",
			Authority: &cable.Authority{ClassifiedBy: "THOMAS CARVER, CHARGE D'AFFAIRES", Reason: "1.4 (A) AND (B)", DeclassifyOn: in(15)},
		},
		{
			Station: "PARIS", Precedence: cable.Immediate, Classification: cable.Secret,
			Captions: []cable.Caption{cable.NODIS},
			To:       []cable.Addressee{action("STATE")},
			Tags:     []string{"PREL", "FR"}, Subject: "PRIVATE MESSAGE FROM THE FOREIGN MINISTER",
			Paragraphs: []cable.Paragraph{
				p(1, cable.Secret, "The Foreign Minister asked me to convey privately to the Secretary that France is prepared to support a joint written reply, provided the text is agreed among the three capitals before any of them speaks publicly."),
				p(2, cable.Secret, "He asked that this message not be shared beyond the Secretary's immediate office."),
			},
			Signature: "LANGLOIS",
			Authority: &cable.Authority{ClassifiedBy: "MARIE LANGLOIS, AMBASSADOR", Reason: "1.4 (B) AND (D)", DeclassifyOn: in(25)},
		},
		{
			Station: "STATE", Precedence: cable.Routine, Classification: cable.Confidential,
			To:   []cable.Addressee{action("MOSCOW"), info("LONDON"), info("PARIS")},
			Tags: []string{"PREL", "UR"}, Subject: "GUIDANCE ON REPLY TO FOREIGN MINISTRY",
			References: []cable.Reference{{Text: "MOSCOW 1"}},
			Paragraphs: []cable.Paragraph{
				p(1, cable.Confidential, "The Department agrees with the Embassy's recommendation in reftel. We are consulting London and Paris on a joint written reply and will send a text for comment within the week."),
				p(2, cable.Confidential, "Meanwhile the Embassy should not engage the Ministry on substance and should say only that the allies are studying the Ministry's position."),
			},
			Signature: "SECSTATE",
			Authority: &cable.Authority{ClassifiedBy: "ROBERT AKERS, DIRECTOR, OFFICE OF EASTERN EUROPEAN AFFAIRS", Reason: "1.4 (D)", DeclassifyOn: in(10)},
		},
		{
			Station: "MOSCOW", Precedence: cable.Routine, Classification: cable.Unclassified,
			To:   []cable.Addressee{action("STATE")},
			Tags: []string{"CVIS", "UR"}, Subject: "VISA APPLICATIONS FOR AGRICULTURAL DELEGATION",
			Paragraphs: []cable.Paragraph{
				p(1, cable.Unclassified, "The Ministry of Agriculture has submitted visa applications for a delegation of eleven to visit grain research stations in Kansas and Nebraska next month."),
				p(2, cable.Unclassified, "Consular Section will issue on receipt of the Department's clearance."),
			},
			Signature: "HOLLOWAY",
		},
	}
}
