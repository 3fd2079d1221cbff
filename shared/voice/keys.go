package voice

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"yinling/shared/ids"
)

// The bucket's prefixes. template.yaml's lifecycle rules name the first two: an object under
// uploads/ is deleted two days after it was written, one under tts/ ninety days after; clips/
// has no rule, so a claimed clip lives as long as its reminder needs it.
const (
	uploadsPrefix = "uploads/"
	clipsPrefix   = "clips/"
	speechPrefix  = "tts/"
)

// uploadKey is where a browser uploads a clip: uploads/<storeID>/<ULID>.<ext>.
func uploadKey(storeID, id, ext string) string {
	return uploadsPrefix + storeID + "/" + id + "." + ext
}

// claimedKey is where a claimed clip is kept: clips/<storeID>/<ULID>.<ext>, the same id and
// extension as its upload, so claiming the same upload twice names the same object.
func claimedKey(storeID, id, ext string) string {
	return clipsPrefix + storeID + "/" + id + "." + ext
}

// parseClipKey splits an uploads/ or clips/ key of storeID into its prefix, ULID and extension.
// ok is false for anything else: another store's key, a key of another shape, an id that is not
// a ULID, an extension no accepted content type has.
func parseClipKey(storeID, key string) (prefix, id, ext string, ok bool) {
	if storeID == "" || strings.Contains(storeID, "/") {
		return "", "", "", false
	}
	for _, p := range []string{uploadsPrefix, clipsPrefix} {
		rest, found := strings.CutPrefix(key, p+storeID+"/")
		if !found {
			continue
		}
		id, ext, found = strings.Cut(rest, ".")
		if !found || !ids.Valid(id) || !knownExt(ext) {
			return "", "", "", false
		}
		return p, id, ext, true
	}
	return "", "", "", false
}

// speechKey is where spoken text is cached: tts/<hex sha256(engine|voice|lang|text)>.<ext>.
// engine names everything else that shapes the audio (engine kind, speed), so changing a
// setting changes every key instead of serving audio made the old way. The text comes last, so
// a '|' inside it cannot make two inputs collide.
func speechKey(engine, voice, lang, text, ext string) string {
	sum := sha256.Sum256([]byte(engine + "|" + voice + "|" + lang + "|" + text))
	return speechPrefix + hex.EncodeToString(sum[:]) + "." + ext
}
