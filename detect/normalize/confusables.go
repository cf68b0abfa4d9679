package normalize

// confusableTable maps look-alike letters to the lower-case ASCII letter
// they are read as, in the spirit of the skeletons of Unicode TS #39. It is
// curated, not the full confusables.txt: it covers the scripts attackers
// actually swap in (Greek, Cyrillic, Armenian, Cherokee, IPA and small
// capitals) and deliberately leaves out ordinary accented Latin letters
// (café stays café) and every CJK character. Letters that NFKC already maps
// (full-width, mathematical, circled, superscript) need no entry; a test
// checks that every entry survives NFKC and that the table is sorted.
//
// Each entry is rune<<8 | ASCII letter, sorted by rune.
var confusableTable = [...]uint32{
	0x0131<<8 | 'i', // ı dotless i
	0x0184<<8 | 'b', // Ƅ tone six
	0x0185<<8 | 'b', // ƅ tone six
	0x0192<<8 | 'f', // ƒ f with hook
	0x0199<<8 | 'k', // ƙ k with hook
	0x01A5<<8 | 'p', // ƥ p with hook
	0x01AD<<8 | 't', // ƭ t with hook
	0x01B4<<8 | 'y', // ƴ y with hook
	0x01C0<<8 | 'l', // ǀ dental click
	0x0225<<8 | 'z', // ȥ z with hook
	0x0237<<8 | 'j', // ȷ dotless j
	0x0251<<8 | 'a', // ɑ alpha
	0x0253<<8 | 'b', // ɓ b with hook
	0x0257<<8 | 'd', // ɗ d with hook
	0x025B<<8 | 'e', // ɛ open e
	0x0260<<8 | 'g', // ɠ g with hook
	0x0261<<8 | 'g', // ɡ script g
	0x0262<<8 | 'g', // ɢ small capital g
	0x0263<<8 | 'y', // ɣ gamma
	0x0266<<8 | 'h', // ɦ h with hook
	0x0269<<8 | 'i', // ɩ iota
	0x026A<<8 | 'i', // ɪ small capital i
	0x0274<<8 | 'n', // ɴ small capital n
	0x0280<<8 | 'r', // ʀ small capital r
	0x0282<<8 | 's', // ʂ s with hook
	0x0288<<8 | 't', // ʈ t with retroflex hook
	0x028B<<8 | 'u', // ʋ v with hook
	0x028F<<8 | 'y', // ʏ small capital y
	0x0290<<8 | 'z', // ʐ z with retroflex hook
	0x0299<<8 | 'b', // ʙ small capital b
	0x029C<<8 | 'h', // ʜ small capital h
	0x029F<<8 | 'l', // ʟ small capital l
	0x037F<<8 | 'j', // Ϳ Greek capital yot
	0x0391<<8 | 'a', // Α Greek capital alpha
	0x0392<<8 | 'b', // Β Greek capital beta
	0x0395<<8 | 'e', // Ε Greek capital epsilon
	0x0396<<8 | 'z', // Ζ Greek capital zeta
	0x0397<<8 | 'h', // Η Greek capital eta
	0x0399<<8 | 'i', // Ι Greek capital iota
	0x039A<<8 | 'k', // Κ Greek capital kappa
	0x039C<<8 | 'm', // Μ Greek capital mu
	0x039D<<8 | 'n', // Ν Greek capital nu
	0x039F<<8 | 'o', // Ο Greek capital omicron
	0x03A1<<8 | 'p', // Ρ Greek capital rho
	0x03A4<<8 | 't', // Τ Greek capital tau
	0x03A5<<8 | 'y', // Υ Greek capital upsilon
	0x03A7<<8 | 'x', // Χ Greek capital chi
	0x03B1<<8 | 'a', // α Greek alpha
	0x03B2<<8 | 'b', // β Greek beta
	0x03B3<<8 | 'y', // γ Greek gamma
	0x03B5<<8 | 'e', // ε Greek epsilon
	0x03B7<<8 | 'n', // η Greek eta
	0x03B9<<8 | 'i', // ι Greek iota
	0x03BA<<8 | 'k', // κ Greek kappa
	0x03BC<<8 | 'u', // μ Greek mu
	0x03BD<<8 | 'v', // ν Greek nu
	0x03BF<<8 | 'o', // ο Greek omicron
	0x03C1<<8 | 'p', // ρ Greek rho
	0x03C4<<8 | 't', // τ Greek tau
	0x03C5<<8 | 'u', // υ Greek upsilon
	0x03C7<<8 | 'x', // χ Greek chi
	0x03C9<<8 | 'w', // ω Greek omega
	0x03F3<<8 | 'j', // ϳ Greek yot
	0x0405<<8 | 's', // Ѕ Cyrillic capital dze
	0x0406<<8 | 'i', // І Cyrillic capital byelorussian-ukrainian i
	0x0408<<8 | 'j', // Ј Cyrillic capital je
	0x0410<<8 | 'a', // А Cyrillic capital a
	0x0412<<8 | 'b', // В Cyrillic capital ve
	0x0415<<8 | 'e', // Е Cyrillic capital ie
	0x041A<<8 | 'k', // К Cyrillic capital ka
	0x041C<<8 | 'm', // М Cyrillic capital em
	0x041D<<8 | 'h', // Н Cyrillic capital en
	0x041E<<8 | 'o', // О Cyrillic capital o
	0x0420<<8 | 'p', // Р Cyrillic capital er
	0x0421<<8 | 'c', // С Cyrillic capital es
	0x0422<<8 | 't', // Т Cyrillic capital te
	0x0423<<8 | 'y', // У Cyrillic capital u
	0x0425<<8 | 'x', // Х Cyrillic capital ha
	0x042C<<8 | 'b', // Ь Cyrillic capital soft sign
	0x0430<<8 | 'a', // а Cyrillic a
	0x0432<<8 | 'b', // в Cyrillic ve
	0x0433<<8 | 'r', // г Cyrillic ghe
	0x0435<<8 | 'e', // е Cyrillic ie
	0x043A<<8 | 'k', // к Cyrillic ka
	0x043C<<8 | 'm', // м Cyrillic em
	0x043D<<8 | 'h', // н Cyrillic en
	0x043E<<8 | 'o', // о Cyrillic o
	0x043F<<8 | 'n', // п Cyrillic pe
	0x0440<<8 | 'p', // р Cyrillic er
	0x0441<<8 | 'c', // с Cyrillic es
	0x0442<<8 | 't', // т Cyrillic te
	0x0443<<8 | 'y', // у Cyrillic u
	0x0445<<8 | 'x', // х Cyrillic ha
	0x0448<<8 | 'w', // ш Cyrillic sha
	0x044C<<8 | 'b', // ь Cyrillic soft sign
	0x0455<<8 | 's', // ѕ Cyrillic dze
	0x0456<<8 | 'i', // і Cyrillic byelorussian-ukrainian i
	0x0458<<8 | 'j', // ј Cyrillic je
	0x0474<<8 | 'v', // Ѵ Cyrillic capital izhitsa
	0x0475<<8 | 'v', // ѵ Cyrillic izhitsa
	0x04AE<<8 | 'y', // Ү Cyrillic capital straight u
	0x04AF<<8 | 'y', // ү Cyrillic straight u
	0x04BA<<8 | 'h', // Һ Cyrillic capital shha
	0x04BB<<8 | 'h', // һ Cyrillic shha
	0x04C0<<8 | 'l', // Ӏ Cyrillic palochka
	0x04CF<<8 | 'l', // ӏ Cyrillic small palochka
	0x0500<<8 | 'd', // Ԁ Cyrillic capital komi de
	0x0501<<8 | 'd', // ԁ Cyrillic komi de
	0x051A<<8 | 'q', // Ԛ Cyrillic capital qa
	0x051B<<8 | 'q', // ԛ Cyrillic qa
	0x051C<<8 | 'w', // Ԝ Cyrillic capital we
	0x051D<<8 | 'w', // ԝ Cyrillic we
	0x053C<<8 | 'l', // Լ Armenian capital liwn
	0x054D<<8 | 'u', // Ս Armenian capital seh
	0x0555<<8 | 'o', // Օ Armenian capital oh
	0x0561<<8 | 'w', // ա Armenian ayb
	0x0566<<8 | 'q', // զ Armenian za
	0x0570<<8 | 'h', // հ Armenian ho
	0x0578<<8 | 'n', // ո Armenian vo
	0x057D<<8 | 'u', // ս Armenian seh
	0x0581<<8 | 'g', // ց Armenian co
	0x0585<<8 | 'o', // օ Armenian oh
	0x13A0<<8 | 'd', // Ꭰ Cherokee a
	0x13A1<<8 | 'r', // Ꭱ Cherokee e
	0x13A2<<8 | 't', // Ꭲ Cherokee i
	0x13A5<<8 | 'i', // Ꭵ Cherokee v
	0x13A9<<8 | 'y', // Ꭹ Cherokee gi
	0x13AA<<8 | 'a', // Ꭺ Cherokee go
	0x13AB<<8 | 'j', // Ꭻ Cherokee gu
	0x13AC<<8 | 'e', // Ꭼ Cherokee gv
	0x13B3<<8 | 'w', // Ꮃ Cherokee la
	0x13B7<<8 | 'm', // Ꮇ Cherokee lu
	0x13BB<<8 | 'h', // Ꮋ Cherokee mi
	0x13C0<<8 | 'g', // Ꮐ Cherokee nah
	0x13C2<<8 | 'h', // Ꮒ Cherokee ni
	0x13C3<<8 | 'z', // Ꮓ Cherokee no
	0x13CF<<8 | 'b', // Ꮟ Cherokee si
	0x13D2<<8 | 'r', // Ꮢ Cherokee sv
	0x13D9<<8 | 'v', // Ꮩ Cherokee do
	0x13DA<<8 | 's', // Ꮪ Cherokee du
	0x13DE<<8 | 'l', // Ꮮ Cherokee tle
	0x13DF<<8 | 'c', // Ꮯ Cherokee tli
	0x13E2<<8 | 'p', // Ꮲ Cherokee tlv
	0x13E6<<8 | 'k', // Ꮶ Cherokee tso
	0x13F4<<8 | 'b', // Ᏼ Cherokee yv
	0x1D00<<8 | 'a', // ᴀ small capital a
	0x1D04<<8 | 'c', // ᴄ small capital c
	0x1D05<<8 | 'd', // ᴅ small capital d
	0x1D07<<8 | 'e', // ᴇ small capital e
	0x1D0A<<8 | 'j', // ᴊ small capital j
	0x1D0B<<8 | 'k', // ᴋ small capital k
	0x1D0D<<8 | 'm', // ᴍ small capital m
	0x1D0F<<8 | 'o', // ᴏ small capital o
	0x1D18<<8 | 'p', // ᴘ small capital p
	0x1D1B<<8 | 't', // ᴛ small capital t
	0x1D1C<<8 | 'u', // ᴜ small capital u
	0x1D20<<8 | 'v', // ᴠ small capital v
	0x1D21<<8 | 'w', // ᴡ small capital w
	0x1D22<<8 | 'z', // ᴢ small capital z
	0x212E<<8 | 'e', // ℮ estimated symbol
	0xA730<<8 | 'f', // ꜰ small capital f
	0xA731<<8 | 's', // ꜱ small capital s
}

// confusable returns the ASCII letter r is read as, or 0.
func confusable(r rune) byte {
	if r < 0x0131 || r > 0xA731 {
		return 0
	}
	lo, hi := 0, len(confusableTable)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		k := rune(confusableTable[h] >> 8)
		switch {
		case k == r:
			return byte(confusableTable[h])
		case k < r:
			lo = h + 1
		default:
			hi = h
		}
	}
	return 0
}
