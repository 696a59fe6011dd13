package seal

import cable "github.com/cable-archive/cable"

// Refusals. Each is a *cable.Error; functions return them wrapped with detail
// (fmt.Errorf("...: %w", ErrX)), so test with errors.Is and read the code with
// cable.ErrorCode. The transport records them as security events.
var (
	// ErrUnknownStation: the originating station is not trusted here.
	ErrUnknownStation = &cable.Error{Code: cable.EFORBIDDEN, Message: "Sealed by a station this station does not trust."}
	// ErrUntrustedGeneration: the station is trusted, but not yet the key
	// generation the cable was sealed under, a newer one than any trusted
	// (by at most MaxGenerationsAhead): its identity may still come.
	ErrUntrustedGeneration = cable.ErrNotYetTrusted
	// ErrUnknownGeneration: the station is trusted, but the key generation
	// the cable names is neither trusted nor one that may still come (older
	// than the newest trusted, or too far past it).
	ErrUnknownGeneration = &cable.Error{Code: cable.EFORBIDDEN, Message: "Sealed under a key generation that is not trusted and not awaited."}
	// ErrBadSignature: the signature does not verify with the origin's
	// trusted key (a forgery, or content changed before sealing).
	ErrBadSignature = &cable.Error{Code: cable.EFORBIDDEN, Message: "Signature does not verify."}
	// ErrAltered: the ciphertext or the content inside it is damaged or was
	// changed in transit.
	ErrAltered = &cable.Error{Code: cable.EFORBIDDEN, Message: "Sealed cable is altered or malformed."}
	// ErrNotAddressed: the cable is not sealed to this station, or to none of
	// its key generations.
	ErrNotAddressed = &cable.Error{Code: cable.EFORBIDDEN, Message: "Sealed cable is not addressed to this station."}
	// ErrCableIDMismatch: the envelope's cable identifier is not the one the
	// origin signed (a relay relabelled the cable).
	ErrCableIDMismatch = &cable.Error{Code: cable.EFORBIDDEN, Message: "Envelope cable identifier does not match the signed one."}
	// ErrEnvelopeMismatch: the envelope's origin, generation or recipients
	// are not the ones the origin signed.
	ErrEnvelopeMismatch = &cable.Error{Code: cable.EFORBIDDEN, Message: "Envelope does not match the signed origin, generation or recipients."}
	// ErrNotHosted: the station named to open, sign or verify as is not
	// hosted at this node (its keys are not here).
	ErrNotHosted = &cable.Error{Code: cable.EFORBIDDEN, Message: "Station is not hosted at this node."}
	// ErrBadSelfSignature: an exported public identity's self-signature does
	// not verify (the file was tampered with or damaged).
	ErrBadSelfSignature = &cable.Error{Code: cable.EFORBIDDEN, Message: "Public identity's self-signature does not verify."}
	// ErrRetiredGeneration: the key generation is trusted but its station
	// has since made a newer one, longer ago than SupersededGrace.
	ErrRetiredGeneration = &cable.Error{Code: cable.EFORBIDDEN, Message: "Sealed under a key generation its station has replaced, past the time allowed for what was in flight."}
	// ErrCommentMismatch: an exported public identity's comment lines
	// name another station, generation or fingerprint than its key: the
	// fingerprint an operator reads out from the file would not be the
	// key's.
	ErrCommentMismatch = &cable.Error{Code: cable.EFORBIDDEN, Message: "Public identity's comment lines do not match its key."}
	// ErrKeyConflict: a different key is offered for a station and generation
	// already trusted.
	ErrKeyConflict = &cable.Error{Code: cable.ECONFLICT, Message: "A different key is already trusted for that station and generation."}
	// ErrKeysExist: Init found keys already in the directory.
	ErrKeysExist = &cable.Error{Code: cable.ECONFLICT, Message: "Station keys already exist."}
)
