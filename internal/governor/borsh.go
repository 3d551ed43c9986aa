package governor

import (
	"encoding/binary"
	"fmt"
	"reflect"
)

// The program's arguments, accounts and events are Borsh. This codec is driven by Go struct
// layout (field order is wire order), so a struct definition is the single description of its
// bytes, and the IDL test checks that description against the program's IDL.
//
// Mapping: bool, uintN, intN (little-endian); string and slices: u32 length, then items
// (so []byte is Borsh Vec<u8>); arrays: items only; pointers: Option (1-byte tag, then the
// value); structs: fields in order. Types with a Valid() bool method (enums) are checked after
// decoding.

// borshMarshal appends the Borsh encoding of v to dst. A pointer at the top level is the value
// it points to (only nested pointers are Options).
func borshMarshal(dst []byte, v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, fmt.Errorf("borsh: encode nil %T", v)
		}
		rv = rv.Elem()
	}
	return borshEncode(dst, rv)
}

func borshEncode(dst []byte, v reflect.Value) ([]byte, error) {
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			return append(dst, 1), nil
		}
		return append(dst, 0), nil
	case reflect.Uint8:
		return append(dst, uint8(v.Uint())), nil
	case reflect.Uint16:
		return binary.LittleEndian.AppendUint16(dst, uint16(v.Uint())), nil
	case reflect.Uint32:
		return binary.LittleEndian.AppendUint32(dst, uint32(v.Uint())), nil
	case reflect.Uint64:
		return binary.LittleEndian.AppendUint64(dst, v.Uint()), nil
	case reflect.Int8:
		return append(dst, uint8(v.Int())), nil
	case reflect.Int16:
		return binary.LittleEndian.AppendUint16(dst, uint16(v.Int())), nil
	case reflect.Int32:
		return binary.LittleEndian.AppendUint32(dst, uint32(v.Int())), nil
	case reflect.Int64:
		return binary.LittleEndian.AppendUint64(dst, uint64(v.Int())), nil
	case reflect.String:
		dst = binary.LittleEndian.AppendUint32(dst, uint32(v.Len()))
		return append(dst, v.String()...), nil
	case reflect.Slice:
		if v.Len() > int(^uint32(0)) {
			return nil, fmt.Errorf("borsh: %s of %d items does not fit a u32 length", v.Type(), v.Len())
		}
		dst = binary.LittleEndian.AppendUint32(dst, uint32(v.Len()))
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return append(dst, v.Bytes()...), nil
		}
		return borshEncodeItems(dst, v)
	case reflect.Array:
		return borshEncodeItems(dst, v)
	case reflect.Pointer:
		if v.IsNil() {
			return append(dst, 0), nil
		}
		return borshEncode(append(dst, 1), v.Elem())
	case reflect.Struct:
		var err error
		for i := 0; i < v.NumField(); i++ {
			if !v.Type().Field(i).IsExported() {
				continue
			}
			if dst, err = borshEncode(dst, v.Field(i)); err != nil {
				return nil, fmt.Errorf("%s.%s: %w", v.Type().Name(), v.Type().Field(i).Name, err)
			}
		}
		return dst, nil
	default:
		return nil, fmt.Errorf("borsh: unsupported type %s", v.Type())
	}
}

func borshEncodeItems(dst []byte, v reflect.Value) ([]byte, error) {
	var err error
	for i := 0; i < v.Len(); i++ {
		if dst, err = borshEncode(dst, v.Index(i)); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

// borshUnmarshal decodes data into the value v points to and returns the bytes it consumed.
// Callers decide whether trailing bytes are an error (instruction data, events) or padding
// (accounts are allocated at their maximum size).
func borshUnmarshal(data []byte, v any) (int, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return 0, fmt.Errorf("borsh: decode needs a non-nil pointer, got %T", v)
	}
	d := borshDecoder{data: data}
	if err := d.decode(rv.Elem()); err != nil {
		return d.off, err
	}
	return d.off, nil
}

type borshDecoder struct {
	data []byte
	off  int
}

func (d *borshDecoder) take(n int) ([]byte, error) {
	if n < 0 || len(d.data)-d.off < n {
		return nil, fmt.Errorf("borsh: need %d bytes at offset %d, have %d", n, d.off, len(d.data)-d.off)
	}
	b := d.data[d.off : d.off+n]
	d.off += n
	return b, nil
}

type validator interface{ Valid() bool }

var validatorType = reflect.TypeFor[validator]()

func (d *borshDecoder) decode(v reflect.Value) error {
	if err := d.decodeValue(v); err != nil {
		return err
	}
	if v.Kind() != reflect.Pointer && v.Type().Implements(validatorType) && !v.Interface().(validator).Valid() {
		return fmt.Errorf("borsh: invalid %s value %v", v.Type().Name(), v.Interface())
	}
	return nil
}

func (d *borshDecoder) decodeValue(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Bool:
		b, err := d.take(1)
		if err != nil {
			return err
		}
		if b[0] > 1 {
			return fmt.Errorf("borsh: invalid bool byte %d at offset %d", b[0], d.off-1)
		}
		v.SetBool(b[0] == 1)
	case reflect.Uint8, reflect.Int8:
		b, err := d.take(1)
		if err != nil {
			return err
		}
		setInt(v, uint64(b[0]))
	case reflect.Uint16, reflect.Int16:
		b, err := d.take(2)
		if err != nil {
			return err
		}
		setInt(v, uint64(binary.LittleEndian.Uint16(b)))
	case reflect.Uint32, reflect.Int32:
		b, err := d.take(4)
		if err != nil {
			return err
		}
		setInt(v, uint64(binary.LittleEndian.Uint32(b)))
	case reflect.Uint64, reflect.Int64:
		b, err := d.take(8)
		if err != nil {
			return err
		}
		setInt(v, binary.LittleEndian.Uint64(b))
	case reflect.String:
		n, err := d.length()
		if err != nil {
			return err
		}
		b, err := d.take(n)
		if err != nil {
			return err
		}
		v.SetString(string(b))
	case reflect.Slice:
		n, err := d.length()
		if err != nil {
			return err
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b, err := d.take(n)
			if err != nil {
				return err
			}
			v.SetBytes(append([]byte{}, b...))
			return nil
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			if err := d.decode(s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 && !v.Type().Elem().Implements(validatorType) {
			b, err := d.take(v.Len())
			if err != nil {
				return err
			}
			reflect.Copy(v, reflect.ValueOf(b))
			return nil
		}
		for i := 0; i < v.Len(); i++ {
			if err := d.decode(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Pointer:
		b, err := d.take(1)
		if err != nil {
			return err
		}
		switch b[0] {
		case 0:
			v.Set(reflect.Zero(v.Type()))
		case 1:
			p := reflect.New(v.Type().Elem())
			if err := d.decode(p.Elem()); err != nil {
				return err
			}
			v.Set(p)
		default:
			return fmt.Errorf("borsh: invalid option tag %d at offset %d", b[0], d.off-1)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if !v.Type().Field(i).IsExported() {
				continue
			}
			if err := d.decode(v.Field(i)); err != nil {
				return fmt.Errorf("%s.%s: %w", v.Type().Name(), v.Type().Field(i).Name, err)
			}
		}
	default:
		return fmt.Errorf("borsh: unsupported type %s", v.Type())
	}
	return nil
}

func (d *borshDecoder) length() (int, error) {
	b, err := d.take(4)
	if err != nil {
		return 0, err
	}
	n := binary.LittleEndian.Uint32(b)
	// Every item takes at least one byte, so a length beyond the remaining bytes is corrupt;
	// refusing it early keeps a bad length from allocating gigabytes.
	if int64(n) > int64(len(d.data)-d.off) {
		return 0, fmt.Errorf("borsh: length %d at offset %d exceeds the %d bytes left", n, d.off-4, len(d.data)-d.off)
	}
	return int(n), nil
}

func setInt(v reflect.Value, u uint64) {
	switch v.Kind() {
	case reflect.Int8:
		v.SetInt(int64(int8(u)))
	case reflect.Int16:
		v.SetInt(int64(int16(u)))
	case reflect.Int32:
		v.SetInt(int64(int32(u)))
	case reflect.Int64:
		v.SetInt(int64(u))
	default:
		v.SetUint(u)
	}
}
