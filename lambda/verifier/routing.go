package verifier

// What a deployment routes to the verifier: the EventBridge events it acts
// on, so a rule can match them as narrowly as the verifier reads them.
const (
	// S3Source and ObjectCreated are S3's event for a stored object.
	S3Source      = sourceS3
	ObjectCreated = detailObjectCreated
	// GuardDutySource and ScanResult are GuardDuty Malware Protection for
	// S3's result for one object, needed only with Settings.MalwareScan.
	GuardDutySource = sourceGuardDuty
	ScanResult      = detailScanResult
)

// MalwareScanMaxSize is the largest object GuardDuty Malware Protection for
// S3 scans (100 GB); a larger one is rejected as not scanned.
const MalwareScanMaxSize = guardDutyMaxSize

// StoredReasons are the values of Object Created's reason for every way the
// API stores an object: a PUT, a form POST and a multipart completion. A
// copy (CopyObject) is not the API's: no URL it issues copies.
func StoredReasons() []string { return []string{reasonPut, reasonPost, reasonMultipart} }
