package geo

import "testing"

func TestMaskName(t *testing.T) {
	for in, want := range map[string]string{
		"张三丰": "张**", "李四": "李*", "王": "*", "": "", "欧阳娜娜": "欧***", "John Smith": "J*********",
	} {
		if got := MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678":       "138****5678",
		"138-1234-5678":     "138-****-5678",
		"+86 138 1234 5678": "+86 1** **** 5678",
		"0571-88886666":     "057*-****6666",
		"12345":             "***45",
		"":                  "",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}
