# Helpers shared by every gitfed target: warnings and sanitizers.

function(gitfed_enable_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual
    -Wimplicit-fallthrough)
  if(GITFED_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

function(gitfed_enable_sanitizers target)
  if(GITFED_SANITIZE)
    target_compile_options(${target} PRIVATE
      -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# A gitfed library target: warnings, sanitizers and the gitfed:: alias.
function(gitfed_library target alias)
  gitfed_enable_warnings(${target})
  gitfed_enable_sanitizers(${target})
  add_library(gitfed::${alias} ALIAS ${target})
endfunction()
