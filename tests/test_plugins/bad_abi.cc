// A plugin that claims another ABI major version: the host must refuse it.
#include "ferry/plugin.h"

extern "C" FERRY_PLUGIN_EXPORT const ferry_plugin_descriptor* ferry_on_describe(void) {
  static const ferry_plugin_descriptor d = {
      FERRY_PLUGIN_ABI_MAJOR + 1, 0, "bad_abi", "test", nullptr, 0};
  return &d;
}
