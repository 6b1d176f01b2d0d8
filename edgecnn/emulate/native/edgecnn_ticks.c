/* SysTick as a 64-bit tick counter (see edgecnn_ticks.h). */
#include "edgecnn_ticks.h"

/* SysTick registers: at these addresses on every Cortex-M (the System Control Space). */
#define SYST_CSR (*(volatile uint32_t*)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t*)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t*)0xE000E018u)
#define SYST_RELOAD 0x00FFFFFFu /* a 24-bit down counter */

static volatile uint32_t wraps;

/* Replaces the weak handler of startup_mps2.c: one call per 2^24 ticks. */
void SysTick_Handler(void) { wraps = wraps + 1; }

void EdgecnnTicksStart(void) {
  SYST_RVR = SYST_RELOAD;
  SYST_CVR = 0;
  SYST_CSR = 7; /* enable, interrupt on wrap, processor clock */
  while (SYST_CVR == 0) {
    /* The first load from RVR is not a wrap: wait until the counter runs. */
  }
}

uint64_t EdgecnnTicksNow(void) {
  uint32_t before;
  uint32_t value;
  do {
    before = wraps;
    value = SYST_CVR;
  } while (before != wraps);
  return (uint64_t)before * (SYST_RELOAD + 1u) + (SYST_RELOAD - value);
}
