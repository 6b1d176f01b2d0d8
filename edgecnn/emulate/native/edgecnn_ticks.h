/* Instruction counting on an emulated Cortex-M board: SysTick, read around the code being measured.
 *
 * Under qemu-system-arm with `-icount shift=0` every instruction advances virtual time by 1 ns, and SysTick
 * (clocked by the processor clock, CLKSOURCE=1) counts that time, so ticks * 1e9 / clock = instructions,
 * deterministically, to within one tick. Only call these on a board (qemu-system-arm): user-mode qemu-arm has
 * no SysTick and the first access faults. */
#ifndef EDGECNN_TICKS_H_
#define EDGECNN_TICKS_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void EdgecnnTicksStart(void);    /* starts SysTick; call once, before the first EdgecnnTicksNow() */
uint64_t EdgecnnTicksNow(void);  /* processor-clock ticks since EdgecnnTicksStart(), never wrapping */

#ifdef __cplusplus
}
#endif

#endif /* EDGECNN_TICKS_H_ */
