/* The raw bytes of one output tensor as hex, written in chunks so that no long line is buffered at once. */
#include "edgecnn_print.h"

#include <stdio.h>

void EdgecnnPrintOutput(unsigned long sample, unsigned index, const uint8_t* data, size_t bytes) {
  static const char digits[] = "0123456789abcdef";
  char chunk[129];
  size_t used = 0;
  size_t position;
  printf("sample=%lu output=%u hex=", sample, index);
  for (position = 0; position < bytes; ++position) {
    chunk[used++] = digits[data[position] >> 4];
    chunk[used++] = digits[data[position] & 15];
    if (used == sizeof(chunk) - 1) {
      chunk[used] = '\0';
      fputs(chunk, stdout);
      used = 0;
    }
  }
  chunk[used] = '\0';
  fputs(chunk, stdout);
  fputs("\n", stdout);
}
