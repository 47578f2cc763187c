/* Prints the layout of the V4L2 structs as this compiler sees them, one
 * "<struct>.<field> <offset>" / "<struct>.size <bytes>" per line, so a test can
 * check a managed mirror of them against the target ABI; "ioctl.<name> <code>"
 * lines give the request numbers those sizes produce. */
#include <linux/videodev2.h>
#include <stddef.h>
#include <stdio.h>

#define S(t) printf(#t ".size %zu\n", sizeof(struct t))
#define F(t, f) printf(#t "." #f " %zu\n", offsetof(struct t, f))
#define IOC(r) printf("ioctl." #r " %lu\n", (unsigned long)(r))

int main(void)
{
	S(v4l2_capability);
	F(v4l2_capability, driver);
	F(v4l2_capability, card);
	F(v4l2_capability, bus_info);
	F(v4l2_capability, version);
	F(v4l2_capability, capabilities);
	F(v4l2_capability, device_caps);

	S(v4l2_fmtdesc);
	F(v4l2_fmtdesc, index);
	F(v4l2_fmtdesc, type);
	F(v4l2_fmtdesc, flags);
	F(v4l2_fmtdesc, description);
	F(v4l2_fmtdesc, pixelformat);

	S(v4l2_frmsizeenum);
	F(v4l2_frmsizeenum, index);
	F(v4l2_frmsizeenum, pixel_format);
	F(v4l2_frmsizeenum, type);
	F(v4l2_frmsizeenum, discrete);

	S(v4l2_frmivalenum);
	F(v4l2_frmivalenum, index);
	F(v4l2_frmivalenum, pixel_format);
	F(v4l2_frmivalenum, width);
	F(v4l2_frmivalenum, height);
	F(v4l2_frmivalenum, type);
	F(v4l2_frmivalenum, discrete);

	S(v4l2_format);
	F(v4l2_format, type);
	F(v4l2_format, fmt);

	S(v4l2_pix_format);
	F(v4l2_pix_format, width);
	F(v4l2_pix_format, height);
	F(v4l2_pix_format, pixelformat);
	F(v4l2_pix_format, field);
	F(v4l2_pix_format, bytesperline);
	F(v4l2_pix_format, sizeimage);
	F(v4l2_pix_format, colorspace);

	S(v4l2_streamparm);
	F(v4l2_streamparm, type);
	F(v4l2_streamparm, parm);

	S(v4l2_captureparm);
	F(v4l2_captureparm, capability);
	F(v4l2_captureparm, capturemode);
	F(v4l2_captureparm, timeperframe);
	F(v4l2_captureparm, extendedmode);
	F(v4l2_captureparm, readbuffers);

	S(v4l2_requestbuffers);
	F(v4l2_requestbuffers, count);
	F(v4l2_requestbuffers, type);
	F(v4l2_requestbuffers, memory);
	F(v4l2_requestbuffers, capabilities);

	S(v4l2_buffer);
	F(v4l2_buffer, index);
	F(v4l2_buffer, type);
	F(v4l2_buffer, bytesused);
	F(v4l2_buffer, flags);
	F(v4l2_buffer, field);
	F(v4l2_buffer, timestamp);
	F(v4l2_buffer, timecode);
	F(v4l2_buffer, sequence);
	F(v4l2_buffer, memory);
	F(v4l2_buffer, m);
	F(v4l2_buffer, length);
	F(v4l2_buffer, request_fd);

	S(v4l2_queryctrl);
	F(v4l2_queryctrl, id);
	F(v4l2_queryctrl, type);
	F(v4l2_queryctrl, name);
	F(v4l2_queryctrl, minimum);
	F(v4l2_queryctrl, maximum);
	F(v4l2_queryctrl, step);
	F(v4l2_queryctrl, default_value);
	F(v4l2_queryctrl, flags);

	S(v4l2_querymenu);
	F(v4l2_querymenu, id);
	F(v4l2_querymenu, index);
	F(v4l2_querymenu, name);

	S(v4l2_control);
	F(v4l2_control, id);
	F(v4l2_control, value);

	S(v4l2_input);
	F(v4l2_input, index);
	F(v4l2_input, name);
	F(v4l2_input, type);

	IOC(VIDIOC_QUERYCAP);
	IOC(VIDIOC_ENUM_FMT);
	IOC(VIDIOC_G_FMT);
	IOC(VIDIOC_S_FMT);
	IOC(VIDIOC_REQBUFS);
	IOC(VIDIOC_QUERYBUF);
	IOC(VIDIOC_QBUF);
	IOC(VIDIOC_DQBUF);
	IOC(VIDIOC_STREAMON);
	IOC(VIDIOC_STREAMOFF);
	IOC(VIDIOC_G_PARM);
	IOC(VIDIOC_S_PARM);
	IOC(VIDIOC_ENUMINPUT);
	IOC(VIDIOC_G_CTRL);
	IOC(VIDIOC_S_CTRL);
	IOC(VIDIOC_QUERYCTRL);
	IOC(VIDIOC_QUERYMENU);
	IOC(VIDIOC_ENUM_FRAMESIZES);
	IOC(VIDIOC_ENUM_FRAMEINTERVALS);
	return 0;
}
