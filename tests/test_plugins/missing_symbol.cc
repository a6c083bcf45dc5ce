// A plugin with the right ABI version that lacks ferry_on_encode and the rest.
#include "ferry/plugin.h"

extern "C" FERRY_PLUGIN_EXPORT const ferry_plugin_descriptor* ferry_on_describe(void) {
  static const ferry_plugin_descriptor d = {
      FERRY_PLUGIN_ABI_MAJOR, FERRY_PLUGIN_ABI_MINOR, "missing_symbol", "test", nullptr, 0};
  return &d;
}
extern "C" FERRY_PLUGIN_EXPORT int ferry_on_init(const ferry_host_api*, const char*, size_t,
                                                 ferry_plugin_instance**, ferry_plugin_limits*,
                                                 char*, size_t) {
  return 1;
}
