//go:build amd64 && !purego

#include "textflag.h"

// func sumRows32(tab *byte, mask uint32, rows *uint32, n int, ahead *uint32, na int, out *[32]uint16)
TEXT ·sumRows32(SB), NOSPLIT, $0-56
	MOVQ tab+0(FP), SI
	MOVL mask+8(FP), R10
	MOVQ rows+16(FP), DI
	MOVQ n+24(FP), CX
	MOVQ ahead+32(FP), R8
	MOVQ na+40(FP), R9
	MOVQ out+48(FP), DX
	PXOR X8, X8
	PXOR X4, X4
	PXOR X5, X5
	PXOR X6, X6
	PXOR X7, X7
	XORQ BX, BX

row:
	CMPQ BX, CX
	JGE  done
	// start fetching row ahead[k] while row k is summed, for k < na
	CMPQ BX, R9
	JGE  sum
	MOVL (R8)(BX*4), AX
	ANDL R10, AX
	SHLQ $5, AX
	PREFETCHT0 (SI)(AX*1)

sum:
	MOVL (DI)(BX*4), AX
	ANDL R10, AX
	SHLQ $5, AX
	MOVOU (SI)(AX*1), X0
	MOVOU 16(SI)(AX*1), X1
	MOVO X0, X2
	MOVO X1, X3
	PUNPCKLBW X8, X0
	PUNPCKHBW X8, X2
	PUNPCKLBW X8, X1
	PUNPCKHBW X8, X3
	PADDW X0, X4
	PADDW X2, X5
	PADDW X1, X6
	PADDW X3, X7
	INCQ BX
	JMP  row

done:
	MOVOU X4, 0(DX)
	MOVOU X5, 16(DX)
	MOVOU X6, 32(DX)
	MOVOU X7, 48(DX)
	RET

// func heads16(h *float32, d int, w *float32, chunks int, acc *float32)
TEXT ·heads16(SB), NOSPLIT, $0-40
	MOVQ h+0(FP), SI
	MOVQ d+8(FP), CX
	MOVQ w+16(FP), DI
	MOVQ chunks+24(FP), R8
	MOVQ acc+32(FP), DX

chunk:
	TESTQ R8, R8
	JZ    end
	MOVUPS 0(DX), X0
	MOVUPS 16(DX), X1
	MOVUPS 32(DX), X2
	MOVUPS 48(DX), X3
	XORQ  BX, BX

input:
	CMPQ BX, CX
	JGE  store
	MOVSS (SI)(BX*4), X8
	SHUFPS $0, X8, X8
	MOVUPS 0(DI), X4
	MOVUPS 16(DI), X5
	MOVUPS 32(DI), X6
	MOVUPS 48(DI), X7
	MULPS X8, X4
	MULPS X8, X5
	MULPS X8, X6
	MULPS X8, X7
	ADDPS X4, X0
	ADDPS X5, X1
	ADDPS X6, X2
	ADDPS X7, X3
	ADDQ $64, DI
	INCQ BX
	JMP  input

store:
	MOVUPS X0, 0(DX)
	MOVUPS X1, 16(DX)
	MOVUPS X2, 32(DX)
	MOVUPS X3, 48(DX)
	ADDQ  $64, DX
	DECQ  R8
	JMP   chunk

end:
	RET

// func meanHidden32SSE(sum *int32, bos *byte, inv float32, b1 *float32, h *float32)
TEXT ·meanHidden32SSE(SB), NOSPLIT, $0-40
	MOVQ   sum+0(FP), SI
	MOVQ   bos+8(FP), DI
	MOVSS  inv+16(FP), X7
	SHUFPS $0, X7, X7
	MOVQ   b1+24(FP), R8
	MOVQ   h+32(FP), DX
	PXOR   X6, X6
	MOVQ   $128, AX
	MOVQ   AX, X5
	PSHUFL $0, X5, X5
	XORQ   CX, CX

unit8:
	// bos[j..j+8] widened to int32
	MOVQ      (DI)(CX*1), X0
	PUNPCKLBW X6, X0
	MOVO      X0, X1
	PUNPCKLWL X6, X0
	PUNPCKHWL X6, X1
	MOVOU     (SI)(CX*4), X2
	MOVOU     16(SI)(CX*4), X3
	PADDL     X0, X2
	PADDL     X1, X3
	PSUBL     X5, X2
	PSUBL     X5, X3
	CVTPL2PS  X2, X2
	CVTPL2PS  X3, X3
	MULPS     X7, X2
	MULPS     X7, X3
	MOVUPS    (R8)(CX*4), X0
	MOVUPS    16(R8)(CX*4), X1
	ADDPS     X0, X2
	ADDPS     X1, X3
	// ReLU: zero where v < 0 (false for -0 and NaN, which stay)
	MOVAPS    X2, X0
	CMPPS     X6, X0, $1
	ANDNPS    X2, X0
	MOVUPS    X0, (DX)(CX*4)
	MOVAPS    X3, X1
	CMPPS     X6, X1, $1
	ANDNPS    X3, X1
	MOVUPS    X1, 16(DX)(CX*4)
	ADDQ      $8, CX
	CMPQ      CX, $32
	JLT       unit8
	RET

// func prefetchRows32(tab *byte, mask uint32, rows *uint32, n int)
TEXT ·prefetchRows32(SB), NOSPLIT, $0-32
	MOVQ tab+0(FP), SI
	MOVL mask+8(FP), R10
	MOVQ rows+16(FP), DI
	MOVQ n+24(FP), CX
	XORQ BX, BX

fetch:
	CMPQ BX, CX
	JGE  fetched
	MOVL (DI)(BX*4), AX
	ANDL R10, AX
	SHLQ $5, AX
	PREFETCHT0 (SI)(AX*1)
	INCQ BX
	JMP  fetch

fetched:
	RET
