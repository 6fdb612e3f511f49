package api

import (
	"encoding/base64"
	"encoding/binary"
	"hash"
	"hash/crc64"
	"sync"
)

// Whole-file integrity: S3's CRC-64/NVME checksum. A single PUT signs the
// file's checksum; a multipart upload signs each part's and sends the
// whole file's at completion, where S3 combines the parts' and refuses a
// mismatch (BadDigest). On the wire a checksum is the base64 of its 8
// bytes, big-endian, as S3's x-amz-checksum-crc64nvme header carries it.

// The checksum algorithms a multipart upload may start with
// (MultipartStartRequest.ChecksumAlgorithm).
const (
	ChecksumAlgorithmCRC64NVME = "CRC64NVME"
	ChecksumAlgorithmSHA256    = "SHA256"
)

// crc64NVMEPolynomial is CRC-64/NVME's polynomial, bit-reversed as
// hash/crc64 takes it (0xad93d23594c93659 in normal form).
const crc64NVMEPolynomial = 0x9a6c9329ac4bc9b5

var crc64NVMETable = sync.OnceValue(func() *crc64.Table { return crc64.MakeTable(crc64NVMEPolynomial) })

// NewCRC64NVME returns a hash computing S3's CRC64NVME checksum.
func NewCRC64NVME() hash.Hash64 { return crc64.New(crc64NVMETable()) }

// CRC64NVME returns the checksum of b.
func CRC64NVME(b []byte) uint64 { return crc64.Checksum(b, crc64NVMETable()) }

// EncodeCRC64NVME spells a checksum as S3 does: the base64 of its 8 bytes.
func EncodeCRC64NVME(sum uint64) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, sum))
}

// DecodeCRC64NVME reads a checksum EncodeCRC64NVME spelled; ok is false for
// anything else.
func DecodeCRC64NVME(s string) (sum uint64, ok bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != 8 || len(s) != 12 {
		return 0, false
	}
	return binary.BigEndian.Uint64(b), true
}

// CombineCRC64NVME returns the checksum of A followed by B from the
// checksum of A, the checksum of B and B's length: a whole file's from its
// parts', in order, without reading them again.
func CombineCRC64NVME(a, b uint64, lenB int64) uint64 {
	if lenB <= 0 {
		return a
	}
	// a, advanced over lenB zero bytes, then b: the operator that feeds one
	// zero bit is a 64×64 matrix over GF(2); squaring it gives 2, 4, 8…
	// bits, applied for each set bit of lenB's bit count.
	var odd, even [64]uint64
	odd[0] = crc64NVMEPolynomial // one zero bit
	row := uint64(1)
	for n := 1; n < 64; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four zero bits
	for {
		gf2Square(&even, &odd) // eight zero bits: one byte, then 2, 4… bytes
		if lenB&1 != 0 {
			a = gf2Times(&even, a)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
		gf2Square(&odd, &even)
		if lenB&1 != 0 {
			a = gf2Times(&odd, a)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
	}
	return a ^ b
}

func gf2Times(m *[64]uint64, v uint64) uint64 {
	var sum uint64
	for i := 0; v != 0; i, v = i+1, v>>1 {
		if v&1 != 0 {
			sum ^= m[i]
		}
	}
	return sum
}

func gf2Square(square, m *[64]uint64) {
	for n := range m {
		square[n] = gf2Times(m, m[n])
	}
}
