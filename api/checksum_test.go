package api_test

import (
	"math/rand/v2"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
)

func TestCRC64NVME(t *testing.T) {
	// The check value of CRC-64/NVME, and S3's spelling of it.
	if got := api.CRC64NVME([]byte("123456789")); got != 0xae8b14860a799888 {
		t.Errorf("CRC64NVME(123456789) = %016x, want ae8b14860a799888", got)
	}
	s := api.EncodeCRC64NVME(0xae8b14860a799888)
	if s != "rosUhgp5mIg=" {
		t.Errorf("encoded = %q, want rosUhgp5mIg=", s)
	}
	if sum, ok := api.DecodeCRC64NVME(s); !ok || sum != 0xae8b14860a799888 {
		t.Errorf("decoded = %016x, %v", sum, ok)
	}
	for _, bad := range []string{"", "rosUhgp5mIg", "rosUhgp5mIg==", "rosUhgp5mIgA", "!osUhgp5mIg=", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="} {
		if _, ok := api.DecodeCRC64NVME(bad); ok {
			t.Errorf("DecodeCRC64NVME(%q) accepted it", bad)
		}
	}
}

// Combining the parts' checksums gives the whole file's, for any cut.
func TestCombineCRC64NVME(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 1<<20+7)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	whole := api.CRC64NVME(data)
	for _, cut := range []int{0, 1, 7, 8, 4096, 1 << 19, len(data) - 1, len(data)} {
		a, b := data[:cut], data[cut:]
		if got := api.CombineCRC64NVME(api.CRC64NVME(a), api.CRC64NVME(b), int64(len(b))); got != whole {
			t.Errorf("cut at %d: combined %016x, want %016x", cut, got, whole)
		}
	}
	// Many parts, in order.
	var sum uint64
	for off := 0; off < len(data); off += 100_003 {
		part := data[off:min(off+100_003, len(data))]
		if off == 0 {
			sum = api.CRC64NVME(part)
			continue
		}
		sum = api.CombineCRC64NVME(sum, api.CRC64NVME(part), int64(len(part)))
	}
	if sum != whole {
		t.Errorf("combined parts %016x, want %016x", sum, whole)
	}
	h := api.NewCRC64NVME()
	h.Write(data[:10])
	h.Write(data[10:])
	if h.Sum64() != whole {
		t.Errorf("streamed %016x, want %016x", h.Sum64(), whole)
	}
}

func BenchmarkCRC64NVME(b *testing.B) {
	data := make([]byte, 16<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		api.CRC64NVME(data)
	}
}

func BenchmarkCombineCRC64NVME(b *testing.B) {
	for b.Loop() {
		api.CombineCRC64NVME(1, 2, 16<<20)
	}
}

func TestQuotaRefusalMessage(t *testing.T) {
	for _, tc := range []struct {
		r    api.QuotaRefusal
		want string
	}{
		{api.QuotaRefusal{Dimension: api.QuotaBytes, Limit: 3 << 20, Used: 1 << 20, Remaining: 2 << 20, Needed: 3 << 20},
			"over quota: your quota of stored bytes has 2.0 MiB of 3.0 MiB left; this upload needs 3.0 MiB"},
		{api.QuotaRefusal{Dimension: api.QuotaFilesPerDay, Limit: 4, Used: 4, Needed: 1, RetryAfter: 3*3600 + 185},
			"over quota: your quota of uploads today has 0 of 4 left; this upload needs 1; it starts afresh in 3h3m0s (midnight UTC)"},
		{api.QuotaRefusal{Dimension: api.QuotaSessions, Limit: 2, Used: 2, Needed: 1},
			"over quota: your quota of multipart uploads in progress has 0 of 2 left; this upload needs 1"},
	} {
		if got := tc.r.Message(); got != tc.want {
			t.Errorf("Message() = %q\nwant        %q", got, tc.want)
		}
	}
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 5 << 30: "5.0 GiB", api.MaxObjectSize: "48.8 TiB"} {
		if got := api.FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
