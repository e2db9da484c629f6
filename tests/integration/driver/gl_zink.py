#!/usr/bin/env python3
"""OpenGL ES 3.1 on Mesa's Zink (Gallium over Vulkan), headless: EGL's
surfaceless platform, one context, no window system. Zink turns every GL call
below into Vulkan calls to whichever Vulkan driver the loader offers, so the
same script run natively on lavapipe and through our driver (via
../run_native_vs_icd.sh) must print the same lines:

  - a render into a texture: a clear, a textured triangle with colours per
    vertex (a texture uploaded from the CPU, sampled with NEAREST), instanced
    blended quads; the pixels read back, as a SHA-256 and a colour count;
  - an occlusion query around the triangle;
  - a compute shader that writes a storage buffer, mapped and checked word
    for word against the values computed here;
  - OpenGL ES 3.2's stages beyond those: a geometry shader whose points are
    captured by transform feedback (Vulkan's VK_EXT_transform_feedback,
    its counters and queries), every captured value checked, with the
    primitives-written and primitives-generated queries; a tessellated
    triangle (tessellation control and evaluation shaders) rendered and
    captured, its barycentric coordinates checked.

Exit status: 0 when every check passed, 1 on a failed check (GL errors, a
renderer that is not Zink, wrong values), 77 when EGL, GLES or Zink is not
installed. The GL renderer string (which names the Vulkan device) goes to
stderr only: stdout must not depend on the Vulkan driver.
"""

import ctypes as C
import hashlib
import os
import struct
import sys

# Mesa: Zink through the software (drisw) path; without a window system
# there is nothing to present, so no DRI3 or kopper is needed
os.environ['GALLIUM_DRIVER'] = 'zink'
os.environ['LIBGL_ALWAYS_SOFTWARE'] = '1'
os.environ.setdefault('MESA_SHADER_CACHE_DISABLE', 'true')

SIZE = 96
WORDS = 4096


def skip(why):
    print('SKIP: ' + why, file=sys.stderr)
    sys.exit(77)


def fail(why):
    print('gl_zink: ' + why, file=sys.stderr)
    sys.exit(1)


try:
    egl = C.CDLL('libEGL.so.1')
    gl = C.CDLL('libGLESv2.so.2')
except OSError as e:
    skip('no EGL / GLES library (apt-get install libegl1 libgles2): %s' % e)

vp = C.c_void_p
egl.eglGetPlatformDisplay.restype = vp
egl.eglGetPlatformDisplay.argtypes = [C.c_uint, vp, vp]
egl.eglInitialize.argtypes = [vp, vp, vp]
egl.eglBindAPI.argtypes = [C.c_uint]
egl.eglChooseConfig.argtypes = [vp, vp, vp, C.c_int, vp]
egl.eglCreateContext.restype = vp
egl.eglCreateContext.argtypes = [vp, vp, vp, vp]
egl.eglMakeCurrent.argtypes = [vp, vp, vp, vp]
egl.eglDestroyContext.argtypes = [vp, vp]
egl.eglTerminate.argtypes = [vp]
egl.eglQueryString.restype = C.c_char_p
egl.eglQueryString.argtypes = [vp, C.c_int]
gl.glGetString.restype = C.c_char_p
gl.glClearColor.argtypes = [C.c_float] * 4
gl.glMapBufferRange.restype = vp
gl.glMapBufferRange.argtypes = [C.c_uint, C.c_ssize_t, C.c_ssize_t, C.c_uint]
gl.glBufferData.argtypes = [C.c_uint, C.c_ssize_t, vp, C.c_uint]
gl.glShaderSource.argtypes = [C.c_uint, C.c_int, vp, vp]
gl.glGetUniformLocation.argtypes = [C.c_uint, C.c_char_p]
gl.glUniform1f.argtypes = [C.c_int, C.c_float]
gl.glTransformFeedbackVaryings.argtypes = [C.c_uint, C.c_int, vp, C.c_uint]

# EGL and GL enums
EGL_PLATFORM_SURFACELESS_MESA = 0x31DD
EGL_EXTENSIONS = 0x3055
EGL_NONE = 0x3038
EGL_OPENGL_ES_API = 0x30A0
EGL_RENDERABLE_TYPE = 0x3040
EGL_OPENGL_ES3_BIT = 0x40
EGL_SURFACE_TYPE = 0x3033
EGL_CONTEXT_MAJOR_VERSION = 0x3098
EGL_CONTEXT_MINOR_VERSION = 0x30FB
GL_RENDERER = 0x1F01
GL_VERSION = 0x1F02
GL_TEXTURE_2D = 0x0DE1
GL_RGBA = 0x1908
GL_RGBA8 = 0x8058
GL_UNSIGNED_BYTE = 0x1401
GL_TEXTURE_MIN_FILTER = 0x2801
GL_TEXTURE_MAG_FILTER = 0x2800
GL_NEAREST = 0x2600
GL_FRAMEBUFFER = 0x8D40
GL_COLOR_ATTACHMENT0 = 0x8CE0
GL_FRAMEBUFFER_COMPLETE = 0x8CD5
GL_COLOR_BUFFER_BIT = 0x4000
GL_TRIANGLES = 0x0004
GL_BLEND = 0x0BE2
GL_SRC_ALPHA = 0x0302
GL_ONE_MINUS_SRC_ALPHA = 0x0303
GL_VERTEX_SHADER = 0x8B31
GL_FRAGMENT_SHADER = 0x8B30
GL_COMPUTE_SHADER = 0x91B9
GL_COMPILE_STATUS = 0x8B81
GL_LINK_STATUS = 0x8B82
GL_ANY_SAMPLES_PASSED = 0x8C2F
GL_QUERY_RESULT = 0x8866
GL_SHADER_STORAGE_BUFFER = 0x90D2
GL_DYNAMIC_READ = 0x88E9
GL_MAP_READ_BIT = 0x0001
GL_BUFFER_UPDATE_BARRIER_BIT = 0x0200
GL_TEXTURE0 = 0x84C0
GL_POINTS = 0x0000
GL_PATCHES = 0x000E
GL_PATCH_VERTICES = 0x8E72
GL_GEOMETRY_SHADER = 0x8DD9
GL_TESS_CONTROL_SHADER = 0x8E88
GL_TESS_EVALUATION_SHADER = 0x8E87
GL_TRANSFORM_FEEDBACK_BUFFER = 0x8C8E
GL_INTERLEAVED_ATTRIBS = 0x8C8C
GL_RASTERIZER_DISCARD = 0x8C89
GL_PRIMITIVES_GENERATED = 0x8C87
GL_TRANSFORM_FEEDBACK_PRIMITIVES_WRITTEN = 0x8C88


def check_gl(what):
    err = gl.glGetError()
    if err:
        fail('GL error 0x%x after %s' % (err, what))


def built(obj, get_iv, status, get_log, what):
    """obj, or the end of the run with its info log if status is false."""
    ok = C.c_int()
    get_iv(obj, status, C.byref(ok))
    if not ok.value:
        log = C.create_string_buffer(4096)
        get_log(obj, 4096, None, log)
        fail(what + ': ' + log.value.decode(errors='replace'))
    return obj


def shader(kind, src):
    s = gl.glCreateShader(kind)
    text = C.c_char_p(src.encode())
    gl.glShaderSource(s, 1, C.byref(text), None)
    gl.glCompileShader(s)
    return built(s, gl.glGetShaderiv, GL_COMPILE_STATUS, gl.glGetShaderInfoLog,
                 'shader did not compile')


def program(*shaders, captured=()):
    """A linked program; captured: the outputs transform feedback records,
    interleaved."""
    p = gl.glCreateProgram()
    for s in shaders:
        gl.glAttachShader(p, s)
    if captured:
        names = (C.c_char_p * len(captured))(*(n.encode() for n in captured))
        gl.glTransformFeedbackVaryings(p, len(captured), names, GL_INTERLEAVED_ATTRIBS)
    gl.glLinkProgram(p)
    return built(p, gl.glGetProgramiv, GL_LINK_STATUS, gl.glGetProgramInfoLog,
                 'program did not link')


VERTEX = '''#version 300 es
uniform float scale;
out vec3 colour;
out vec2 uv;
out float alpha;
const vec2 tri[3] = vec2[3](vec2(-0.9, -0.8), vec2(0.85, -0.6), vec2(-0.1, 0.9));
const vec2 quad[6] = vec2[6](vec2(0, 0), vec2(1, 0), vec2(0, 1),
                             vec2(1, 0), vec2(1, 1), vec2(0, 1));
void main() {
   if (gl_InstanceID == 0 && scale == 1.0) {
      vec2 p = tri[gl_VertexID % 3];
      colour = vec3(gl_VertexID == 0, gl_VertexID == 1, gl_VertexID == 2) * 0.8 + 0.2;
      uv = p * 1.5 + 0.5;
      alpha = 1.0;
      gl_Position = vec4(p, 0, 1);
   } else {
      vec2 q = quad[gl_VertexID % 6];
      vec2 at = vec2(-0.95 + 0.45 * float(gl_InstanceID), 0.35 - 0.3 * float(gl_InstanceID));
      colour = vec3(0.9, 0.6 + 0.1 * float(gl_InstanceID), 0.1);
      uv = q;
      alpha = 0.3 + 0.15 * float(gl_InstanceID);
      gl_Position = vec4(at + q * scale, 0, 1);
   }
}
'''

FRAGMENT = '''#version 300 es
precision highp float;
uniform sampler2D tex;
in vec3 colour;
in vec2 uv;
in float alpha;
out vec4 result;
void main() {
   result = vec4(colour * texture(tex, uv).rgb, alpha);
}
'''

COMPUTE = '''#version 310 es
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer Words { uint w[]; };
void main() {
   uint i = gl_GlobalInvocationID.x;
   w[i] = (i * 2654435761u) ^ (i >> 3) ^ w[i];
}
'''


# ES 3.2: a geometry shader emitting two points per input point, recorded by
# transform feedback (the fragment shader only completes the program: the
# rasterizer is off)
XFB_POINTS = 64
XFB_VERTEX = '''#version 320 es
flat out uint vid;
out vec4 pos;
void main() {
   float f = float(gl_VertexID);
   vid = uint(gl_VertexID);
   pos = vec4(f, 0.5 * f, -f, 1.0);
   gl_Position = pos;
}
'''

XFB_GEOMETRY = '''#version 320 es
layout(points) in;
layout(points, max_vertices = 2) out;
flat in uint vid[];
in vec4 pos[];
flat out uint k;
out vec4 val;
void main() {
   for (int j = 0; j < 2; j++) {
      k = vid[0] * 2u + uint(j);
      val = pos[0] * float(j + 1) + vec4(0.25 * float(j));
      gl_Position = vec4(0.0);
      EmitVertex();
      EndPrimitive();
   }
}
'''

PLAIN_FRAGMENT = '''#version 320 es
precision highp float;
out vec4 result;
void main() {
   result = vec4(1.0);
}
'''

# ES 3.2: one triangle patch tessellated at level 4, coloured by its
# barycentric coordinates
TESS_VERTEX = '''#version 320 es
const vec2 corner[3] = vec2[3](vec2(-0.8, -0.8), vec2(0.8, -0.7), vec2(0.1, 0.85));
void main() {
   gl_Position = vec4(corner[gl_VertexID % 3], 0.0, 1.0);
}
'''

TESS_CONTROL = '''#version 320 es
layout(vertices = 3) out;
void main() {
   gl_out[gl_InvocationID].gl_Position = gl_in[gl_InvocationID].gl_Position;
   if (gl_InvocationID == 0) {
      gl_TessLevelOuter[0] = 4.0;
      gl_TessLevelOuter[1] = 4.0;
      gl_TessLevelOuter[2] = 4.0;
      gl_TessLevelInner[0] = 4.0;
   }
}
'''

TESS_EVALUATION = '''#version 320 es
layout(triangles, equal_spacing, ccw) in;
out vec3 bary;
void main() {
   bary = gl_TessCoord;
   gl_Position = gl_TessCoord.x * gl_in[0].gl_Position + gl_TessCoord.y * gl_in[1].gl_Position +
                 gl_TessCoord.z * gl_in[2].gl_Position;
}
'''

TESS_FRAGMENT = '''#version 320 es
precision highp float;
in vec3 bary;
out vec4 result;
void main() {
   result = vec4(bary, 1.0);
}
'''


def read_target(what):
    """The bound framebuffer's pixels and how many colours they hold."""
    pixels = C.create_string_buffer(SIZE * SIZE * 4)
    gl.glReadPixels(0, 0, SIZE, SIZE, GL_RGBA, GL_UNSIGNED_BYTE, pixels)
    check_gl(what)
    data = pixels.raw
    return data, len({data[i:i + 4] for i in range(0, len(data), 4)})


def xfb_buffer(size):
    buf = C.c_uint()
    gl.glGenBuffers(1, C.byref(buf))
    gl.glBindBuffer(GL_TRANSFORM_FEEDBACK_BUFFER, buf)
    gl.glBufferData(GL_TRANSFORM_FEEDBACK_BUFFER, size, None, GL_DYNAMIC_READ)
    gl.glBindBufferBase(GL_TRANSFORM_FEEDBACK_BUFFER, 0, buf)
    return buf


def query_result(query):
    value = C.c_uint()
    gl.glGetQueryObjectuiv(query, GL_QUERY_RESULT, C.byref(value))
    return value.value


def geometry_and_feedback():
    """Points from a geometry shader, recorded by transform feedback: every
    record checked; the primitives-written and -generated queries."""
    prog = program(shader(GL_VERTEX_SHADER, XFB_VERTEX),
                   shader(GL_GEOMETRY_SHADER, XFB_GEOMETRY),
                   shader(GL_FRAGMENT_SHADER, PLAIN_FRAGMENT), captured=('k', 'val'))
    records = XFB_POINTS * 2
    stride = 4 + 16
    xfb_buffer(records * stride)
    gl.glUseProgram(prog)
    written, generated = C.c_uint(), C.c_uint()
    gl.glGenQueries(1, C.byref(written))
    gl.glGenQueries(1, C.byref(generated))
    gl.glEnable(GL_RASTERIZER_DISCARD)
    gl.glBeginQuery(GL_TRANSFORM_FEEDBACK_PRIMITIVES_WRITTEN, written)
    gl.glBeginQuery(GL_PRIMITIVES_GENERATED, generated)
    gl.glBeginTransformFeedback(GL_POINTS)
    gl.glDrawArrays(GL_POINTS, 0, XFB_POINTS)
    gl.glEndTransformFeedback()
    gl.glEndQuery(GL_PRIMITIVES_GENERATED)
    gl.glEndQuery(GL_TRANSFORM_FEEDBACK_PRIMITIVES_WRITTEN)
    gl.glDisable(GL_RASTERIZER_DISCARD)
    check_gl('the transform feedback draw')
    n_written, n_generated = query_result(written), query_result(generated)
    ptr = gl.glMapBufferRange(GL_TRANSFORM_FEEDBACK_BUFFER, 0, records * stride, GL_MAP_READ_BIT)
    if not ptr:
        fail('glMapBufferRange of the transform feedback buffer failed')
    raw = C.string_at(ptr, records * stride)
    gl.glUnmapBuffer(GL_TRANSFORM_FEEDBACK_BUFFER)
    check_gl('the transform feedback read')
    bad = 0
    for r in range(records):
        k, *val = struct.unpack_from('<I4f', raw, r * stride)
        f, j = float(r // 2), r % 2
        want = [c * (j + 1) + 0.25 * j for c in (f, 0.5 * f, -f, 1.0)]
        if k != r or val != want:
            bad += 1
    print('gl_zink_xfb records %d primitives_written %d primitives_generated %d' %
          (records, n_written, n_generated))
    print('gl_zink_xfb mismatches %d' % bad)
    if n_written != records or n_generated != records:
        fail('the queries count %d written and %d generated points, not %d' %
             (n_written, n_generated, records))
    if bad:
        fail('%d of %d transform feedback records are wrong' % (bad, records))


def tessellation():
    """A tessellated patch rendered (pixels hashed) and recorded by
    transform feedback (barycentric coordinates checked)."""
    prog = program(shader(GL_VERTEX_SHADER, TESS_VERTEX),
                   shader(GL_TESS_CONTROL_SHADER, TESS_CONTROL),
                   shader(GL_TESS_EVALUATION_SHADER, TESS_EVALUATION),
                   shader(GL_FRAGMENT_SHADER, TESS_FRAGMENT), captured=('bary',))
    most = 256  # triangles: level 4 makes a few dozen
    xfb_buffer(most * 3 * 12)
    gl.glUseProgram(prog)
    gl.glPatchParameteri(GL_PATCH_VERTICES, 3)
    gl.glClearColor(0.0, 0.0, 0.0, 1.0)
    gl.glClear(GL_COLOR_BUFFER_BIT)
    written = C.c_uint()
    gl.glGenQueries(1, C.byref(written))
    gl.glBeginQuery(GL_TRANSFORM_FEEDBACK_PRIMITIVES_WRITTEN, written)
    gl.glBeginTransformFeedback(GL_TRIANGLES)
    gl.glDrawArrays(GL_PATCHES, 0, 3)
    gl.glEndTransformFeedback()
    gl.glEndQuery(GL_TRANSFORM_FEEDBACK_PRIMITIVES_WRITTEN)
    check_gl('the tessellated draw')
    data, colours = read_target('glReadPixels of the tessellated patch')
    triangles = query_result(written)
    if not 1 < triangles <= most:
        fail('the tessellated patch wrote %d triangles' % triangles)
    ptr = gl.glMapBufferRange(GL_TRANSFORM_FEEDBACK_BUFFER, 0, triangles * 36, GL_MAP_READ_BIT)
    if not ptr:
        fail('glMapBufferRange of the tessellation record failed')
    coords = (C.c_float * (triangles * 9)).from_address(ptr)
    points = [tuple(coords[v * 3:v * 3 + 3]) for v in range(triangles * 3)]
    gl.glUnmapBuffer(GL_TRANSFORM_FEEDBACK_BUFFER)
    check_gl('the tessellation record read')
    off = sum(1 for p in points if min(p) < 0 or max(p) > 1 or abs(sum(p) - 1) > 1e-5)
    print('gl_zink_tess sha256 %s' % hashlib.sha256(data).hexdigest())
    print('gl_zink_tess colours %d triangles %d vertices %d distinct %d' %
          (colours, triangles, len(points), len(set(points))))
    print('gl_zink_tess off_the_patch %d' % off)
    if off:
        fail('%d tessellated vertices are not barycentric coordinates of the patch' % off)
    if colours < 16:
        fail('the tessellated patch has only %d colours' % colours)


def expected_word(i, initial):
    return ((i * 2654435761) & 0xffffffff) ^ (i >> 3) ^ initial


def main():
    dpy = egl.eglGetPlatformDisplay(EGL_PLATFORM_SURFACELESS_MESA, None, None)
    if not dpy or not egl.eglInitialize(dpy, None, None):
        skip('EGL has no surfaceless platform (Mesa\'s libegl-mesa0)')
    egl.eglBindAPI(EGL_OPENGL_ES_API)
    attrs = (C.c_int * 5)(EGL_RENDERABLE_TYPE, EGL_OPENGL_ES3_BIT, EGL_SURFACE_TYPE, 0, EGL_NONE)
    cfg, n = vp(), C.c_int()
    if not egl.eglChooseConfig(dpy, attrs, C.byref(cfg), 1, C.byref(n)) or not n.value:
        fail('no EGL config for OpenGL ES 3')
    ctx_attrs = (C.c_int * 5)(EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 1,
                              EGL_NONE)
    ctx = egl.eglCreateContext(dpy, cfg, None, ctx_attrs)
    if not ctx:
        fail('no OpenGL ES 3.1 context (Zink did not start on this Vulkan driver?)')
    if not egl.eglMakeCurrent(dpy, None, None, ctx):
        fail('eglMakeCurrent without a surface failed')
    renderer = gl.glGetString(GL_RENDERER).decode()
    print('gl_zink: %s, %s' % (renderer, gl.glGetString(GL_VERSION).decode()), file=sys.stderr)
    if not renderer.startswith('zink'):
        # Mesa without Zink falls back to its own software rasterizer
        skip('the GL renderer is %s, not Zink' % renderer)

    # a 32x32 texture from the CPU
    texels = bytes(((x * 37 + y * 11) & 0xff if c == 0 else (x ^ y) * 8 & 0xff if c == 1 else
                    (255 if (x // 4 + y // 4) % 2 else 96) if c == 2 else 255)
                   for y in range(32) for x in range(32) for c in range(4))
    tex = C.c_uint()
    gl.glGenTextures(1, C.byref(tex))
    gl.glActiveTexture(GL_TEXTURE0)
    gl.glBindTexture(GL_TEXTURE_2D, tex)
    gl.glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, 32, 32, 0, GL_RGBA, GL_UNSIGNED_BYTE, texels)
    gl.glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST)
    gl.glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST)
    check_gl('the texture upload')

    # the render target
    target, fbo = C.c_uint(), C.c_uint()
    gl.glGenTextures(1, C.byref(target))
    gl.glBindTexture(GL_TEXTURE_2D, target)
    gl.glTexStorage2D(GL_TEXTURE_2D, 1, GL_RGBA8, SIZE, SIZE)
    gl.glGenFramebuffers(1, C.byref(fbo))
    gl.glBindFramebuffer(GL_FRAMEBUFFER, fbo)
    gl.glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, target, 0)
    if gl.glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE:
        fail('framebuffer incomplete')
    gl.glBindTexture(GL_TEXTURE_2D, tex)

    draw = program(shader(GL_VERTEX_SHADER, VERTEX), shader(GL_FRAGMENT_SHADER, FRAGMENT))
    gl.glUseProgram(draw)
    gl.glUniform1i(gl.glGetUniformLocation(draw, b'tex'), 0)
    scale = gl.glGetUniformLocation(draw, b'scale')
    vao = C.c_uint()
    gl.glGenVertexArrays(1, C.byref(vao))
    gl.glBindVertexArray(vao)
    gl.glViewport(0, 0, SIZE, SIZE)
    gl.glClearColor(0.1, 0.2, 0.3, 1.0)
    gl.glClear(GL_COLOR_BUFFER_BIT)

    query = C.c_uint()
    gl.glGenQueries(1, C.byref(query))
    gl.glBeginQuery(GL_ANY_SAMPLES_PASSED, query)
    gl.glUniform1f(scale, 1.0)
    gl.glDrawArrays(GL_TRIANGLES, 0, 3)
    gl.glEndQuery(GL_ANY_SAMPLES_PASSED)
    gl.glEnable(GL_BLEND)
    gl.glBlendFunc(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA)
    gl.glUniform1f(scale, 0.5)
    gl.glDrawArraysInstanced(GL_TRIANGLES, 0, 6, 4)
    gl.glDisable(GL_BLEND)
    check_gl('the draws')

    data, colours = read_target('glReadPixels')
    samples = C.c_uint()
    gl.glGetQueryObjectuiv(query, GL_QUERY_RESULT, C.byref(samples))
    check_gl('the query read')
    print('gl_zink_render sha256 %s' % hashlib.sha256(data).hexdigest())
    print('gl_zink_render colours %d' % colours)
    print('gl_zink_query any_samples_passed %d' % samples.value)
    if colours < 64:
        fail('the render has only %d colours' % colours)
    if samples.value != 1:
        fail('the occlusion query says no sample passed')

    # compute: a storage buffer with initial words, rewritten by the shader
    initial = [(i * 7919) & 0xffffffff for i in range(WORDS)]
    ssbo = C.c_uint()
    gl.glGenBuffers(1, C.byref(ssbo))
    gl.glBindBuffer(GL_SHADER_STORAGE_BUFFER, ssbo)
    gl.glBufferData(GL_SHADER_STORAGE_BUFFER, WORDS * 4, (C.c_uint * WORDS)(*initial),
                    GL_DYNAMIC_READ)
    gl.glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, ssbo)
    comp = program(shader(GL_COMPUTE_SHADER, COMPUTE))
    gl.glUseProgram(comp)
    gl.glDispatchCompute(WORDS // 64, 1, 1)
    gl.glMemoryBarrier(GL_BUFFER_UPDATE_BARRIER_BIT)
    ptr = gl.glMapBufferRange(GL_SHADER_STORAGE_BUFFER, 0, WORDS * 4, GL_MAP_READ_BIT)
    if not ptr:
        fail('glMapBufferRange of the storage buffer failed')
    words = (C.c_uint * WORDS).from_address(ptr)
    bad = sum(1 for i in range(WORDS) if words[i] != expected_word(i, initial[i]))
    gl.glUnmapBuffer(GL_SHADER_STORAGE_BUFFER)
    check_gl('the dispatch and the map')
    print('gl_zink_compute words %d' % WORDS)
    print('gl_zink_compute mismatches %d' % bad)
    if bad:
        fail('%d of %d words of the compute shader are wrong' % (bad, WORDS))

    version = gl.glGetString(GL_VERSION).decode().split()
    es32 = len(version) > 2 and version[2] >= '3.2'
    print('gl_zink_es32 %s' % ('yes' if es32 else 'no'))
    if es32:
        geometry_and_feedback()
        tessellation()

    egl.eglMakeCurrent(dpy, None, None, None)
    egl.eglDestroyContext(dpy, ctx)
    egl.eglTerminate(dpy)
    return 0


if __name__ == '__main__':
    sys.exit(main())
