/* Start-up code that lets one semihosted (newlib rdimon) ELF run both as a qemu-arm process and on a
 * qemu-system-arm Arm MPS2/MPS3 board.
 *
 * On a board the core boots from the vector table below: edgecnn links it at the board's reset VTOR
 * (-Wl,--section-start=.vectors=ADDRESS, and -Wl,-u,edgecnn_vectors so --gc-sections keeps it). Reset grants
 * access to the FPU (and MVE on Cortex-M55), which is off at reset, then enters newlib's crt0 (_start): it asks
 * the host for the stack (SYS_HEAPINFO), zeroes .bss, runs constructors, main() and exit(), and exit reaches the
 * host as qemu's exit status. Under qemu-arm the table is plain data and the process starts at _start. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

extern void _start(void);

void Ignore_Handler(void) {}
void SysTick_Handler(void) __attribute__((weak, alias("Ignore_Handler")));

static uint32_t boot_stack[256]; /* only until crt0 takes the stack the host reports */

__attribute__((naked)) static void Reset_Handler(void) {
  __asm__ volatile(
      "ldr r0, =0xE000ED88\n\t" /* CPACR: full access to coprocessors 10 and 11 (FPU, MVE) */
      "ldr r1, [r0]\n\t"
      "orr r1, r1, #0x00F00000\n\t"
      "str r1, [r0]\n\t"
      "dsb\n\t"
      "isb\n\t"
      "ldr r0, =_start\n\t"
      "bx r0\n\t");
}

static void Semihost(uint32_t operation, const void* argument) {
  register uint32_t r0 __asm__("r0") = operation;
  register const void* r1 __asm__("r1") = argument;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

/* newlib's malloc (stdio buffers) takes memory from a pool of its own: librdimon's _sbrk grows from the end of
 * the image up to what SYS_HEAPINFO reports, which on mps3-an547 is the ITCM at 0, below the image. TFLite Micro
 * never allocates. */
#ifndef EDGECNN_HEAP_BYTES
#define EDGECNN_HEAP_BYTES (16 * 1024)
#endif
static char heap_pool[EDGECNN_HEAP_BYTES] __attribute__((aligned(8)));

void* _sbrk(ptrdiff_t increment) {
  static size_t used;
  if (increment < 0 ? (size_t)-increment > used : (size_t)increment > EDGECNN_HEAP_BYTES - used) {
    errno = ENOMEM;
    return (void*)-1;
  }
  void* previous = heap_pool + used;
  used += increment;
  return previous;
}

/* Any fault on a board: one line on the host's stderr, then exit status 99 (SYS_EXIT_EXTENDED), so a crash
 * ends the emulator instead of locking the core up. */
static void Fault_Handler(void) {
  static const uint32_t exit_block[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, 99u};
  Semihost(0x04 /* SYS_WRITE0 */, "edgecnn: CPU fault (HardFault, MemManage, BusFault or UsageFault)\n");
  Semihost(0x20 /* SYS_EXIT_EXTENDED */, exit_block);
  for (;;) {
  }
}

typedef void (*VectorEntry)(void);

__attribute__((section(".vectors"), used)) const VectorEntry edgecnn_vectors[16] = {
    (VectorEntry)(boot_stack + 256), /* initial stack pointer */
    Reset_Handler,
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
    Fault_Handler, /* SecureFault (Armv8-M) */
    0, 0, 0,       /* reserved */
    Fault_Handler, /* SVCall */
    Fault_Handler, /* DebugMonitor */
    0,             /* reserved */
    Fault_Handler, /* PendSV */
    SysTick_Handler,
};
